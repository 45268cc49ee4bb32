// Batches for tests and benchmarks: records with exact, known counts.
import type { ApiCallRecord, ApiCallsBatch } from '@fleetvisor/contracts';
import { LATENCY_BUCKET_COUNT } from '../src/domain/latency';

export function record(caller: string, component: string, method: string, calls: number, errors = 0, latencyBucket?: number): ApiCallRecord {
  const r: ApiCallRecord = { caller, component, method, calls, errors };
  if (latencyBucket !== undefined) {
    const latency = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    latency[latencyBucket] = calls;
    r.latency = latency;
  }
  return r;
}

export function batch(source: string, windowStartMs: number, records: ApiCallRecord[], windowSeconds = 10, part = 0): ApiCallsBatch {
  return { source, windowStart: new Date(windowStartMs).toISOString(), windowSeconds, part, records };
}

/** The start of the window of `windowSeconds` that `ms` falls in. */
export function windowOf(ms: number, windowSeconds = 10): number {
  return Math.floor(ms / (windowSeconds * 1000)) * windowSeconds * 1000;
}
