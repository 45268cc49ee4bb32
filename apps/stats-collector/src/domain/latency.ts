// The fixed latency histogram every source fills (LATENCY_BUCKETS_MS of the contracts), and the
// percentiles read back from summed histograms. Fixed bounds are what make histograms of different
// sources, windows and rollups add up bucket by bucket.
import { LATENCY_BUCKET_COUNT, LATENCY_BUCKETS_MS } from '@fleetvisor/contracts';

export { LATENCY_BUCKET_COUNT, LATENCY_BUCKETS_MS };

/** Index of the bucket a latency falls in (bounds are inclusive upper bounds; the last is +Inf). */
export function latencyBucket(ms: number): number {
  // 14 bounds: a linear scan beats a binary search at this size and stays obviously right.
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]!) return i;
  return LATENCY_BUCKETS_MS.length;
}

export function emptyHistogram(): number[] {
  return new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
}

/** Adds `b` into `a` bucket by bucket. */
export function addHistogram(a: number[], b: readonly number[]): void {
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) a[i]! += b[i] ?? 0;
}

/**
 * The q-quantile (0 < q <= 1) of a histogram as the upper bound of the bucket holding it (what a
 * fixed histogram can say honestly); null when the histogram is empty or the quantile is in +Inf.
 */
export function histogramQuantile(h: readonly number[], q: number): number | null {
  let total = 0;
  for (const c of h) total += c;
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= rank) return i < LATENCY_BUCKETS_MS.length ? LATENCY_BUCKETS_MS[i]! : null;
  }
  return null;
}
