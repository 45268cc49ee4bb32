// Consumers are at-least-once: JetStream redelivers whatever was not acked (crash, ack lost,
// NATS restart), and the relay may republish after a failover. A guard remembers which event ids a
// consumer has finished handling, so a redelivered event is acked without running the handler again.

export interface IdempotencyGuard {
  /** True when handling of this event id already completed. */
  isDone(eventId: string): boolean | Promise<boolean>;
  /** Records that handling of this event id completed. */
  markDone(eventId: string): void | Promise<void>;
}

/**
 * In-memory guard: the most recent `capacity` ids (least recently used evicted). Covers
 * redeliveries within one process lifetime; handlers whose effects must survive restarts should
 * be idempotent themselves or pass a persistent guard (e.g. a table written in the handler's own
 * transaction).
 */
export class MemoryIdempotencyGuard implements IdempotencyGuard {
  private readonly ids = new Map<string, true>();

  constructor(readonly capacity = 10_000) {
    if (!(capacity >= 1)) throw new Error('MemoryIdempotencyGuard: capacity must be >= 1');
  }

  isDone(eventId: string): boolean {
    if (!this.ids.has(eventId)) return false;
    // refresh recency
    this.ids.delete(eventId);
    this.ids.set(eventId, true);
    return true;
  }

  markDone(eventId: string): void {
    this.ids.delete(eventId);
    this.ids.set(eventId, true);
    while (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next().value as string;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

/** A guard that remembers nothing (every delivery runs the handler). */
export const noIdempotencyGuard: IdempotencyGuard = {
  isDone: () => false,
  markDone: () => undefined,
};
