// The live event stream behind GET /api/v1/events/stream. One tail of the log per gateway process
// (not one per client): it reads what was appended since its cursor and hands every batch to each
// connected client, which filters it. A client that resumes (Last-Event-ID = the checkpoint of the
// last event it saw) first reads the log itself from there up to the tail's position, holding back
// what the tail delivers meanwhile, then joins the tail: no event is lost or repeated across the
// switch.
import type { RecordedEvent } from '@fleetvisor/contracts';
import { compareCheckpoints, type PostgresEventStore } from '@fleetvisor/event-store/core';
import type { Logger } from '@fleetvisor/platform';

type Store = Pick<PostgresEventStore, 'readAll' | 'headCheckpoint'>;
export type FeedListener = (events: readonly RecordedEvent[]) => void;

const BATCH = 1000;

export class EventFeed {
  private cursor: string | undefined;
  private readonly listeners = new Set<FeedListener>();
  private starting: Promise<void> | undefined;
  private stopped = false;
  private readonly closers = new Set<() => void>();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  get clients(): number {
    return this.listeners.size;
  }

  /** Starts following the log from its current end (once, however many clients ask at once). */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.cursor = await this.store.headCheckpoint();
      this.loop = this.run();
    })();
    return this.starting;
  }

  /** Something to end when the feed stops (an open SSE response): a server cannot close while streams stay open. */
  onStop(close: () => void): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const close of this.closers) close();
    this.closers.clear();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let got = 0;
      try {
        const page = await this.store.readAll(this.cursor!, BATCH);
        got = page.events.length;
        if (got > 0) {
          this.cursor = page.checkpoint;
          for (const l of this.listeners) l(page.events);
        }
      } catch (e) {
        this.logger.warn({ err: e }, 'event feed: reading the log failed; retrying');
      }
      if (got < BATCH && !this.stopped) await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.pollMs);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /**
   * Delivers every event after `from` (or, without it, from now on) to `deliver`, in log order.
   * Returns the unsubscribe function once the catch-up is done.
   */
  async subscribe(from: string | undefined, deliver: FeedListener, isClosed: () => boolean): Promise<() => void> {
    await this.start();
    if (from === undefined) {
      this.listeners.add(deliver);
      return () => this.listeners.delete(deliver);
    }
    // Join first, holding back: whatever the tail delivers from now on comes after `joinedAt`.
    const held: RecordedEvent[][] = [];
    let catchingUp = true;
    // `from` may be ahead of this tail (a position another gateway's stream handed out).
    const afterFrom = (events: readonly RecordedEvent[]) => (compareCheckpoints(events[events.length - 1]!.checkpoint, from) > 0 ? events.filter((e) => compareCheckpoints(e.checkpoint, from) > 0) : []);
    const listener: FeedListener = (events) => {
      if (catchingUp) held.push([...events]);
      else {
        const fresh = afterFrom(events);
        if (fresh.length > 0) deliver(fresh);
      }
    };
    const joinedAt = this.cursor!;
    this.listeners.add(listener);
    let cursor = from;
    try {
      while (!isClosed() && compareCheckpoints(cursor, joinedAt) < 0) {
        const page = await this.store.readAll(cursor, BATCH);
        if (page.events.length === 0) break;
        const upTo = page.events.filter((e) => compareCheckpoints(e.checkpoint, joinedAt) <= 0);
        if (upTo.length > 0) deliver(upTo);
        cursor = page.checkpoint;
        if (upTo.length < page.events.length) break;
      }
      for (const batch of held) {
        const fresh = afterFrom(batch).filter((e) => compareCheckpoints(e.checkpoint, joinedAt) > 0);
        if (fresh.length > 0) deliver(fresh);
      }
    } finally {
      catchingUp = false;
    }
    return () => this.listeners.delete(listener);
  }
}
