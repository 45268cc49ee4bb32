// Latency summaries: nearest-rank percentiles over a sample of milliseconds.
export interface LatencySummary {
  count: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Nearest-rank percentile of an ascending-sorted sample (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  const sum = arr.reduce((a, b) => a + b, 0);
  return {
    count: arr.length,
    minMs: round2(arr[0] ?? Number.NaN),
    p50Ms: round2(percentile(arr, 50)),
    p90Ms: round2(percentile(arr, 90)),
    p99Ms: round2(percentile(arr, 99)),
    p999Ms: round2(percentile(arr, 99.9)),
    maxMs: round2(arr[arr.length - 1] ?? Number.NaN),
    meanMs: round2(arr.length > 0 ? sum / arr.length : Number.NaN),
  };
}
