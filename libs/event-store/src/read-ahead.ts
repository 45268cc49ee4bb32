// Read-ahead for catch-up readers: after a full readAll batch, the next batch is read at once, so
// the database and the wire work on batch n + 1 while the caller processes batch n.
//
// It never changes what a reader gets. A prefetched batch is served only when it is full, and a
// full batch is exactly what a fresh read from the same checkpoint returns: all its events lie
// below the snapshot xmin of the prefetch, and every transaction below that xmin had ended, so
// later commits can only sort after the batch. Short or failed prefetches are dropped unread.
import type { ReadAllResult } from './types';

interface Pending<T> {
  limit: number;
  read: Promise<T | undefined>;
}

/** Readers in flight at once that keep their prefetch (relay, projections, a tail). */
const MAX_PENDING = 8;

/**
 * T is what a read returns: a decoded ReadAllResult by default, or the store's raw batch (decoded
 * after take(), so that the next read can start before the current one is decoded); `size` counts
 * its events.
 */
export class ReadAhead<T = ReadAllResult> {
  private readonly pending = new Map<string, Pending<T>>();

  constructor(private readonly size: (batch: T) => number = (b) => (b as ReadAllResult).events.length) {}

  static key(after: string, limit: number, types: readonly string[] | undefined): string {
    return types ? `${after}|${limit}|${types.join(',')}` : `${after}|${limit}`;
  }

  /** Starts reading `key` (unless already under way). */
  start(key: string, limit: number, read: () => Promise<T>): void {
    if (this.pending.has(key)) return;
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    // A failed prefetch is not an error of anyone's: the caller's own read will meet it, if lasting.
    this.pending.set(key, { limit, read: read().catch(() => undefined) });
  }

  /** The prefetched batch for `key`, if there was one and it is full. */
  async take(key: string): Promise<T | undefined> {
    const p = this.pending.get(key);
    if (!p) return undefined;
    this.pending.delete(key);
    const result = await p.read;
    return result !== undefined && this.size(result) >= p.limit ? result : undefined;
  }

  clear(): void {
    this.pending.clear();
  }
}
