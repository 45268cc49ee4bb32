// WorkerLiveness: a worker silent past the expiration gets one WorkerExpired (its next report gets
// WorkerReturned, see decideReport); time this registry was not running does not count. Reports'
// last-seen times are heartbeats, not events: they are written to the projection in batches.
import { newEventFor, WorkerExpired } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { LiveWorkers } from './live-workers';
import { decided, type WorkerRecorder } from './worker-recorder';

/** Where last-seen times are kept (the projection's workers table). */
export interface LastSeenStore {
  /** Stores the times; returns the workers it has no row for yet (to be stored again later). */
  flushLastSeen(seen: ReadonlyMap<string, number>): Promise<string[]>;
}

export interface WorkerLivenessOptions {
  /** Host of this process, recorded in event metadata. */
  host: string;
  expirationMs: number;
  expiryCheckIntervalMs: number;
  lastSeenFlushIntervalMs: number;
  clock?: () => number;
}

export class WorkerLiveness {
  private readonly now: () => number;
  private readonly log: Logger;
  private timers: NodeJS.Timeout[] = [];
  /** Silence counts from here at the earliest (the registry's start). */
  private sinceMs = 0;
  private expiring = false;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly live: LiveWorkers,
    private readonly recorder: WorkerRecorder,
    private readonly lastSeen: LastSeenStore,
    private readonly opts: WorkerLivenessOptions,
    logger: Logger,
  ) {
    this.now = opts.clock ?? Date.now;
    this.log = logger.child({ component: 'worker-liveness' });
  }

  /** Starts the expiry checks and last-seen flushes; silence is counted from now. */
  start(): void {
    this.stop();
    this.sinceMs = this.now();
    this.timers.push(setInterval(() => void this.expireSilent(), this.opts.expiryCheckIntervalMs));
    this.timers.push(setInterval(() => void this.flushSeen(), this.opts.lastSeenFlushIntervalMs));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Marks workers silent past the expiration; returns how many. */
  async expireSilent(): Promise<number> {
    if (this.expiring) return 0;
    this.expiring = true;
    let expired = 0;
    try {
      const { expirationMs } = this.opts;
      const silentTooLong = (lastSeenMs: number): boolean => this.now() - Math.max(lastSeenMs, this.sinceMs) > expirationMs;
      const due = [...this.live.entries()].filter(([, w]) => !w.agg.worker.expired && silentTooLong(w.lastSeenMs));
      for (const [name] of due) {
        try {
          await this.live.queue.run(name, async () => {
            const w = this.live.get(name);
            if (!w || w.agg.worker.expired || !silentTooLong(w.lastSeenMs)) return;
            const lastSeen = new Date(w.lastSeenMs).toISOString();
            const result = await this.recorder.record(
              name,
              (agg) => (agg && !agg.worker.expired ? decided(agg, [newEventFor(WorkerExpired, { name, lastSeen, expirationMs }, { host: this.opts.host })]) : []),
              this.now(),
            );
            if (result.appended > 0) expired++;
          });
        } catch (e) {
          this.log.error({ err: e, worker: name }, 'could not record WorkerExpired; will retry');
        }
      }
    } finally {
      this.expiring = false;
    }
    return expired;
  }

  /** Writes the last-seen times of reports since the previous flush (one statement). */
  async flushSeen(): Promise<void> {
    if (this.flushing) return this.flushing;
    const seen = this.live.seen;
    if (seen.size === 0) return;
    const batch = new Map(seen);
    seen.clear();
    this.flushing = this.lastSeen
      .flushLastSeen(batch)
      .then((notYet) => {
        for (const n of notYet) if (!seen.has(n) && this.live.has(n)) seen.set(n, batch.get(n)!);
      })
      .catch((e: unknown) => {
        // Keep them for the next flush (unless newer ones came meanwhile).
        for (const [n, t] of batch) if (!seen.has(n)) seen.set(n, t);
        this.log.warn({ err: e, workers: batch.size }, 'could not store last-seen times; retrying at the next flush');
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }
}
