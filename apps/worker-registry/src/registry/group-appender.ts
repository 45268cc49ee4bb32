// GroupAppender: the registry's group commit. Appends of many workers that arrive within a few
// milliseconds (or up to maxBatch of them) go to the log in one appendToStreams call: one round
// trip, one transaction, one commit for all of them, where one appendToStream per worker cost a
// commit each (the shared Postgres commits ~1,000/s). Each caller gets its own stream's result once
// the group committed, so a report is still answered only after its events are durable.
//
// - While maxInFlight groups are committing, new appends wait and join the next group; a group
//   leaves as soon as a commit slot is free and its first append has waited maxWaitMs, or at once
//   when it is full.
// - Per-stream order: the registry runs one operation per worker at a time anyway, but an append to
//   a stream that still has one waiting or committing here is held back until that one settled, so
//   two appends of a stream never share a call nor commit out of order.
// - appendToStreams is all or nothing: when a group is refused (say one worker's events were
//   stored concurrently elsewhere), every append of it is retried alone with appendToStream, so
//   each caller gets its own result or its own error, and one bad worker never fails the others.
import type { EventEnvelope } from '@fleetvisor/contracts';
import type { AppendResult, StreamAppend } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';

export interface GroupAppendStore {
  appendToStream(stream: string, events: readonly EventEnvelope[], opts?: { expectedVersion?: 'any' }): Promise<AppendResult>;
  appendToStreams(batches: readonly StreamAppend[]): Promise<AppendResult[]>;
}

export interface GroupAppenderOptions {
  /** How long the first append of a group waits for others (default 2 ms). */
  maxWaitMs?: number;
  /** Appends per group at most (default 200). */
  maxBatch?: number;
  /** Groups committing at once at most (default 4). */
  maxInFlight?: number;
  logger?: Logger;
}

interface Pending {
  stream: string;
  events: readonly EventEnvelope[];
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

export interface GroupAppenderStats {
  groups: number;
  appends: number;
  /** Groups refused whole and retried one append at a time. */
  splits: number;
  /** Time spent committing, summed over groups (ms). */
  commitMs: number;
}

export class GroupAppender {
  private readonly maxWaitMs: number;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private waiting: Pending[] = [];
  /** Per stream, the settling of its last append here (later appends of the stream wait for it). */
  private readonly streamTails = new Map<string, Promise<void>>();
  /** Full groups (maxBatch reached) waiting for a commit slot. */
  private readonly ready: Pending[][] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = false;
  private readonly idleWaiters: (() => void)[] = [];
  readonly stats: GroupAppenderStats = { groups: 0, appends: 0, splits: 0, commitMs: 0 };

  constructor(
    private readonly store: GroupAppendStore,
    opts: GroupAppenderOptions = {},
  ) {
    this.maxWaitMs = opts.maxWaitMs ?? 2;
    this.maxBatch = opts.maxBatch ?? 200;
    this.maxInFlight = opts.maxInFlight ?? 4;
    this.logger = opts.logger;
  }

  private readonly logger: Logger | undefined;

  append(stream: string, events: readonly EventEnvelope[]): Promise<AppendResult> {
    const before = this.streamTails.get(stream);
    const result = before ? before.then(() => this.enqueue(stream, events)) : this.enqueue(stream, events);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.streamTails.set(stream, tail);
    void tail.then(() => {
      if (this.streamTails.get(stream) === tail) this.streamTails.delete(stream);
    });
    return result;
  }

  private enqueue(stream: string, events: readonly EventEnvelope[]): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.waiting.push({ stream, events, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.closeWaiting();
      else if (!this.timer && !this.timerDue) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.timerDue = true;
          this.pump();
        }, this.maxWaitMs);
      }
      this.pump();
    });
  }

  /** Resolves when nothing is waiting or committing. */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.length === 0 && this.ready.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private closeWaiting(): void {
    if (this.waiting.length === 0) return;
    this.ready.push(this.waiting);
    this.waiting = [];
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight) {
      let group = this.ready.shift();
      if (!group) {
        if (!this.timerDue || this.waiting.length === 0) break;
        group = this.waiting;
        this.waiting = [];
      }
      void this.commit(group);
    }
    if (this.waiting.length === 0) {
      this.timerDue = false;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    }
    if (this.inFlight === 0 && this.waiting.length === 0 && this.ready.length === 0) {
      for (const r of this.idleWaiters.splice(0)) r();
    }
  }

  private async commit(group: Pending[]): Promise<void> {
    this.inFlight++;
    this.stats.groups++;
    this.stats.appends += group.length;
    const started = performance.now();
    try {
      if (group.length === 1) {
        const p = group[0]!;
        await this.store.appendToStream(p.stream, p.events, { expectedVersion: 'any' }).then(p.resolve, p.reject);
        return;
      }
      let results: AppendResult[] | undefined;
      try {
        results = await this.store.appendToStreams(group.map((p) => ({ stream: p.stream, events: p.events, expectedVersion: 'any' as const })));
      } catch (e) {
        this.stats.splits++;
        this.logger?.warn({ err: e, appends: group.length }, 'group append refused; appending its workers one at a time');
      }
      if (results) {
        for (let i = 0; i < group.length; i++) group[i]!.resolve(results[i]!);
        return;
      }
      await Promise.all(group.map((p) => this.store.appendToStream(p.stream, p.events, { expectedVersion: 'any' }).then(p.resolve, p.reject)));
    } finally {
      this.stats.commitMs += performance.now() - started;
      this.inFlight--;
      this.pump();
    }
  }
}
