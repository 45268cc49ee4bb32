// The counts of a metering proxy between flushes: per flush window (aligned to its length, so a
// window never spans two minutes), per caller × method: calls, JSON-RPC errors, transport errors,
// latency histogram. Windows that have ended become batches for the push subject. Bounded: at most
// `maxKeysPerWindow` keys in a window (further ones are counted under the method "overflow") and at
// most `maxPendingWindows` unsent windows (the oldest are dropped, and counted, when the collector
// has been unreachable that long), so a proxy never grows without limit and never blocks a call.
import type { ApiCallRecord, ApiCallsBatch } from '@fleetvisor/contracts';
import { MAX_RECORDS_PER_BATCH } from '@fleetvisor/contracts';
import { emptyHistogram, latencyBucket } from '../domain/latency';

export type CallOutcome = 'ok' | 'error' | 'transport';
export const OVERFLOW_METHOD = 'overflow';

interface Cell {
  calls: number;
  errors: number;
  transport: number;
  latency: number[];
}

interface Window {
  start: number;
  cells: Map<string, Cell>;
}

export interface MeterCounterOptions {
  source: string;
  component: string;
  windowSeconds: number;
  maxKeysPerWindow?: number;
  maxPendingWindows?: number;
}

export class MeterCounter {
  private readonly windows = new Map<number, Window>();
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly maxPending: number;
  /** Batches of ended windows not yet sent (oldest first). */
  private readonly ready: ApiCallsBatch[] = [];
  counted = 0;
  droppedCalls = 0;

  constructor(private readonly opts: MeterCounterOptions) {
    if (60 % opts.windowSeconds !== 0) throw new Error(`windowSeconds ${opts.windowSeconds} must divide 60`);
    this.windowMs = opts.windowSeconds * 1000;
    this.maxKeys = opts.maxKeysPerWindow ?? 10_000;
    this.maxPending = opts.maxPendingWindows ?? 360;
  }

  /** Counts one call that ended at `atMs`. */
  record(caller: string, method: string, outcome: CallOutcome, latencyMs: number, atMs: number): void {
    const start = atMs - (atMs % this.windowMs);
    let w = this.windows.get(start);
    if (!w) {
      w = { start, cells: new Map() };
      this.windows.set(start, w);
    }
    let key = `${caller}\u0000${method}`;
    let cell = w.cells.get(key);
    if (!cell) {
      if (w.cells.size >= this.maxKeys) {
        key = `${caller}\u0000${OVERFLOW_METHOD}`;
        cell = w.cells.get(key);
      }
      if (!cell) {
        cell = { calls: 0, errors: 0, transport: 0, latency: emptyHistogram() };
        w.cells.set(key, cell);
      }
    }
    cell.calls++;
    if (outcome === 'error') cell.errors++;
    else if (outcome === 'transport') cell.transport++;
    cell.latency[latencyBucket(latencyMs)]!++;
    this.counted++;
  }

  /** Moves windows that ended before `nowMs` to the batches to send (parts of at most 1,000 records). */
  close(nowMs: number): void {
    for (const [start, w] of [...this.windows].sort((a, b) => a[0] - b[0])) {
      if (start + this.windowMs > nowMs) continue;
      this.windows.delete(start);
      const records: ApiCallRecord[] = [];
      for (const [key, c] of w.cells) {
        const sep = key.indexOf('\u0000');
        records.push({
          caller: key.slice(0, sep),
          component: this.opts.component,
          method: key.slice(sep + 1),
          calls: c.calls,
          errors: c.errors,
          ...(c.transport > 0 ? { transportErrors: c.transport } : {}),
          latency: c.latency,
        });
      }
      for (let part = 0; part * MAX_RECORDS_PER_BATCH < records.length; part++) {
        this.ready.push({
          source: this.opts.source,
          windowStart: new Date(start).toISOString(),
          windowSeconds: this.opts.windowSeconds,
          part,
          records: records.slice(part * MAX_RECORDS_PER_BATCH, (part + 1) * MAX_RECORDS_PER_BATCH),
        });
      }
    }
    // Bounded spool: the oldest unsent windows go first.
    while (this.ready.length > this.maxPending) {
      const gone = this.ready.shift()!;
      for (const r of gone.records) this.droppedCalls += r.calls;
    }
  }

  /** The oldest batch waiting to be sent, if any (it stays until `sent`). */
  peek(): ApiCallsBatch | undefined {
    return this.ready[0];
  }

  /** The batch `peek` gave was stored (or refused for good): drop it. */
  sent(): void {
    this.ready.shift();
  }

  get pendingBatches(): number {
    return this.ready.length;
  }
}
