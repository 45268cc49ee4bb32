// RegistryStats: a periodic log line of what the registry does (reports and appends per second,
// commits of the event store's group commit, event-loop delay, memory), for operators and the
// benchmark's progress output.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { AppendCombinerStats } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';
import type { LiveWorkers } from './live-workers';

export interface RegistryCounters {
  /** Reports handled so far. */
  reports(): number;
  /** Appends that wrote events so far. */
  appends(): number;
  /** Appends refused at a stale stream version so far. */
  conflicts(): number;
  /** The event store's group-commit counters (undefined when it has none). */
  commits(): Readonly<AppendCombinerStats> | undefined;
}

export class RegistryStats {
  private timer: NodeJS.Timeout | undefined;
  private loopDelay: IntervalHistogram | undefined;
  private at = 0;
  private last = { reports: 0, appends: 0, conflicts: 0, sends: 0, sendMs: 0, split: 0 };
  private readonly log: Logger;

  constructor(
    private readonly live: LiveWorkers,
    private readonly counters: RegistryCounters,
    logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.log = logger.child({ component: 'worker-registry' });
  }

  /** Logs a stats line every `intervalMs` (0: never). */
  start(intervalMs: number): void {
    this.stop();
    if (intervalMs <= 0) return;
    this.at = this.now();
    this.last = this.current();
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    this.timer = setInterval(() => this.logLine(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.loopDelay?.disable();
    this.loopDelay = undefined;
  }

  private current(): typeof this.last {
    const c = this.counters.commits();
    return {
      reports: this.counters.reports(),
      appends: this.counters.appends(),
      conflicts: this.counters.conflicts(),
      sends: c?.sends ?? 0,
      sendMs: c?.sendMs ?? 0,
      split: c?.split ?? 0,
    };
  }

  private logLine(): void {
    const now = this.now();
    const seconds = Math.max(0.001, (now - this.at) / 1000);
    const cur = this.current();
    const sends = cur.sends - this.last.sends;
    // Diagnostics (node --expose-gc): the heap that is live, not garbage waiting for a collection.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    const m = process.memoryUsage();
    let threads = 0;
    for (const w of this.live.values()) threads += w.agg.threads.size;
    this.log.info(
      {
        workers: this.live.size,
        threads,
        reportsPerSec: Math.round((cur.reports - this.last.reports) / seconds),
        appendsPerSec: Math.round((cur.appends - this.last.appends) / seconds),
        commitsPerSec: Math.round(sends / seconds),
        commitMsAvg: Math.round((cur.sendMs - this.last.sendMs) / Math.max(1, sends)),
        // Groups the log refused and that went one append at a time, and appends at a stale version.
        splitGroups: cur.split - this.last.split,
        conflicts: cur.conflicts - this.last.conflicts,
        ...(this.loopDelay ? { loopDelayP99Ms: Math.round(this.loopDelay.percentile(99) / 1e6) } : {}),
        heapMb: Math.round(m.heapUsed / 1048576),
        heapTotalMb: Math.round(m.heapTotal / 1048576),
        externalMb: Math.round(m.external / 1048576),
        rssMb: Math.round(m.rss / 1048576),
      },
      'worker registry stats',
    );
    this.last = cur;
    this.loopDelay?.reset();
    this.at = now;
  }
}
