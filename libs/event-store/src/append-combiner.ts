// Natural group commit for appendToStream. Appends issued while the store's connections are busy
// with earlier ones wait in a queue, and the next free slot sends everything waiting as ONE
// transaction (fv_append_to_streams): one round trip and one commit for many callers, instead of
// one each. Nothing waits on a timer: a lone caller is sent at once, and grouping only happens when
// appends already queue up, which is exactly when per-append round trips and commits are the cost.
//
// Each caller still gets its own outcome. A group is all or nothing in the database, so when it
// fails for any reason other than a transient race (which is retried whole), nothing of it was
// written and every member is sent again on its own: a refusal then reaches only the append it
// concerns, with the error appendToStream would have given it alone.
//
// Two appends to the same stream are never in flight together: the later one neither shares the
// earlier one's group nor goes in another slot before that one settled. So a stream's appends
// commit in the order they were made, and expected versions mean what they mean one by one.

export interface CombinableAppend {
  stream: string;
  /** Events in this append (groups stay below maxEvents unless a single append is larger). */
  count: number;
}

export interface AppendCombinerOptions<A extends CombinableAppend, R> {
  /** Groups in flight at once (each uses one connection). */
  maxInFlight: number;
  /** Events per group at most (a single larger append goes alone). */
  maxEvents: number;
  /** Appends per group at most. */
  maxAppends: number;
  /** Sends one append on its own, with its own retries and errors. */
  sendOne(append: A): Promise<R>;
  /** Sends several appends as one transaction; results in the order given. Throws if the group failed. */
  sendGroup(appends: readonly A[]): Promise<R[]>;
  /** A group failure that is a transient race, worth retrying the same group (up to maxGroupAttempts). */
  isTransient(e: unknown): boolean;
  maxGroupAttempts: number;
}

interface Waiting<A, R> {
  append: A;
  resolve(r: R): void;
  reject(e: unknown): void;
}

export interface AppendCombinerStats {
  /** Appends submitted. */
  appends: number;
  /** Round trips that carried a group of two or more appends. */
  groups: number;
  /** Appends that went in such groups. */
  grouped: number;
  /** Groups that failed and were split into single appends. */
  split: number;
  /** Sends of a group or a lone append (a split group counts once). */
  sends: number;
  /** Time from send to settled, summed over sends (ms). */
  sendMs: number;
}

export class AppendCombiner<A extends CombinableAppend, R> {
  private readonly queue: Waiting<A, R>[] = [];
  private inFlight = 0;
  private pumpScheduled = false;
  /** Streams with an append in flight: their next appends wait until it settled. */
  private readonly busyStreams = new Set<string>();
  readonly stats: AppendCombinerStats = { appends: 0, groups: 0, grouped: 0, split: 0, sends: 0, sendMs: 0 };

  constructor(private readonly opts: AppendCombinerOptions<A, R>) {
    if (!Number.isSafeInteger(opts.maxInFlight) || opts.maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${opts.maxInFlight}`);
    if (!Number.isSafeInteger(opts.maxAppends) || opts.maxAppends < 1) throw new RangeError(`maxAppends must be a positive integer, got ${opts.maxAppends}`);
  }

  /** Appends waiting for a free slot. */
  get waiting(): number {
    return this.queue.length;
  }

  submit(append: A): Promise<R> {
    this.stats.appends++;
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ append, resolve, reject });
      // A free slot takes it now: no added latency for an append that would not wait anyway.
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const group = this.takeGroup();
      if (!group) break;
      this.inFlight++;
      for (const w of group) this.busyStreams.add(w.append.stream);
      const started = performance.now();
      void this.run(group).finally(() => {
        this.inFlight--;
        this.stats.sends++;
        this.stats.sendMs += performance.now() - started;
        for (const w of group) this.busyStreams.delete(w.append.stream);
        // Next turn of the event loop: callers whose appends just finished make their next ones
        // first, and those join the group this slot sends.
        if (!this.pumpScheduled) {
          this.pumpScheduled = true;
          setImmediate(() => {
            this.pumpScheduled = false;
            this.pump();
          });
        }
      });
    }
  }

  /**
   * The oldest waiting append whose stream is not in flight, then every later one that fits,
   * skipping streams already met; undefined when every waiting append's stream is in flight.
   */
  private takeGroup(): Waiting<A, R>[] | undefined {
    const group: Waiting<A, R>[] = [];
    const rest: Waiting<A, R>[] = [];
    const met = new Set<string>();
    let events = 0;
    for (const w of this.queue) {
      const stream = w.append.stream;
      const free = !met.has(stream) && !this.busyStreams.has(stream);
      // The first free append goes even when larger than maxEvents (alone, then).
      const fits = free && (group.length === 0 || (group.length < this.opts.maxAppends && events + w.append.count <= this.opts.maxEvents));
      if (fits) {
        group.push(w);
        events += w.append.count;
      }
      // A stream met once stays out of this group even if a later append of it would fit: its
      // appends keep their order.
      else rest.push(w);
      met.add(stream);
    }
    if (group.length === 0) return undefined;
    this.queue.length = 0;
    this.queue.push(...rest);
    return group;
  }

  private async run(group: Waiting<A, R>[]): Promise<void> {
    if (group.length === 1) {
      const w = group[0]!;
      await this.opts.sendOne(w.append).then(w.resolve, w.reject);
      return;
    }
    this.stats.groups++;
    this.stats.grouped += group.length;
    const appends = group.map((w) => w.append);
    for (let attempt = 1; ; attempt++) {
      try {
        const results = await this.opts.sendGroup(appends);
        for (let i = 0; i < group.length; i++) group[i]!.resolve(results[i]!);
        return;
      } catch (e) {
        if (this.opts.isTransient(e) && attempt < this.opts.maxGroupAttempts) continue;
        break;
      }
    }
    // Nothing of the group was written: each member on its own, for its own outcome.
    this.stats.split++;
    await Promise.all(group.map((w) => this.opts.sendOne(w.append).then(w.resolve, w.reject)));
  }
}
