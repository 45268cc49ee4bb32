// StatsCollector: the service's parts started and stopped in order. The projection runner folds
// the log into the rollups (caught up before the transport serves pushes and queries), the intake
// checks and appends pushed batches,
// compaction downsamples on a timer, and the optional scraper and steady-band watcher run beside.
import type { Pool } from 'pg';
import { ProjectionRunner, type PostgresEventStore } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';
import type { StatsCollectorSettings } from './config';
import { PushIntake } from './ingest/push-intake';
import { compactRollups } from './projection/compaction';
import { StatsProjection } from './projection/stats-projection';

export interface StatsCollectorDeps {
  pool: Pool;
  store: PostgresEventStore;
  logger: Logger;
  settings: StatsCollectorSettings;
  host?: string;
  clock?: () => number;
}

/** A part with a lifecycle started after the projection caught up (scraper, steady band, /metrics). */
export interface CollectorPart {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class StatsCollector {
  readonly projection = new StatsProjection();
  readonly runner: ProjectionRunner;
  readonly intake: PushIntake;
  private compactTimer: NodeJS.Timeout | undefined;
  private compacting: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly parts: CollectorPart[] = [];
  compactions = 0;
  /** True once the projection has caught up with the log at start (readiness). */
  caughtUp = false;

  constructor(private readonly deps: StatsCollectorDeps) {
    this.log = deps.logger.child({ component: 'stats-collector' });
    this.clock = deps.clock ?? Date.now;
    // 100 events a transaction: an event carries up to 1,000 records (9 rows each before folding), so
    // a larger batch makes one huge statement and a memory peak without going faster.
    this.runner = new ProjectionRunner(deps.pool, deps.store, this.projection, { batchSize: 100, pollIntervalMs: 200, logger: this.log });
    this.intake = new PushIntake(deps.store, this.log, {
      minWindowSeconds: deps.settings.minWindowSeconds,
      retentionMs: deps.settings.retentionMs,
      ...(deps.host ? { host: deps.host } : {}),
      clock: this.clock,
    });
  }

  /** Adds a part started after the projection caught up (and stopped before it). */
  add(part: CollectorPart): void {
    this.parts.push(part);
  }

  async start(): Promise<void> {
    await this.runner.catchUp();
    this.caughtUp = true;
    await this.runner.start();
    for (const p of this.parts) await p.start();
    if (this.deps.settings.compactIntervalMs > 0) {
      this.compactTimer = setInterval(() => void this.compact(), this.deps.settings.compactIntervalMs);
      this.compactTimer.unref();
      void this.compact();
    }
  }

  /** One compaction run (skipped while one is running). */
  async compact(): Promise<void> {
    if (this.compacting) return this.compacting;
    this.compacting = (async () => {
      try {
        const r = await compactRollups(this.deps.pool, this.deps.settings, this.clock());
        this.compactions++;
        if (r.minuteRowsDeleted + r.tenMinuteRowsDeleted + r.expiredRowsDeleted > 0) this.log.info(r, 'rollups compacted');
      } catch (e) {
        this.log.warn({ err: e }, 'compaction failed; retried at the next interval');
      } finally {
        this.compacting = undefined;
      }
    })();
    return this.compacting;
  }

  async stop(): Promise<void> {
    if (this.compactTimer) clearInterval(this.compactTimer);
    for (const p of [...this.parts].reverse()) await p.stop();
    await this.compacting;
    await this.runner.stop();
  }
}
