// WorkerRegistry: the registry's life. It waits to be the one active registry (RegistryLeadership),
// catches the projection up with the log, loads every worker from it into memory (LiveWorkers, with
// the version of each worker's stream), then follows the log with the projection runner (which also
// brings what other writers append to worker streams into memory: ForeignEvents) and starts
// the expiry checks, last-seen flushes and stats. The use cases (WorkerReports, WorkerControl,
// WorkerQueries, WorkerLiveness) work on that memory; the projection (same fold) is the durable
// read model, and a rebuild of it from the log gives the same workers and threads.
import type { Pool } from 'pg';
import { PostgresEventStore, ProjectionRunner } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';
import { cloneAggregate, type WorkerAggregate } from '../domain/worker-state';
import { loadWorkerAggregates, WorkerRegistryProjection } from '../projection/worker-projection';
import type { ForeignEvents } from './foreign-events';
import { workerStream, type LiveWorkers } from './live-workers';
import type { RegistryLeadership } from './registry-leadership';
import type { RegistryStats } from './registry-stats';
import type { WorkerLiveness } from './worker-liveness';

export interface WorkerRegistryParts {
  pool: Pool;
  /** Versions of the worker streams (PostgresEventStore.streamVersions). */
  streams: Pick<PostgresEventStore, 'streamVersions'>;
  live: LiveWorkers;
  /** Folds what other writers append to worker streams into `live` as the runner applies it. */
  foreign: ForeignEvents;
  leadership: RegistryLeadership;
  liveness: WorkerLiveness;
  stats: RegistryStats;
  logger: Logger;
  statsLogIntervalMs: number;
}

export class WorkerRegistry {
  private runner: ProjectionRunner | undefined;
  private started = false;
  private readonly log: Logger;

  constructor(private readonly parts: WorkerRegistryParts) {
    this.log = parts.logger.child({ component: 'worker-registry' });
  }

  get projectionRunner(): ProjectionRunner | undefined {
    return this.runner;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const { pool, live } = this.parts;
    await this.parts.leadership.acquire();
    // The runner reads through a store instance of its own: the registry's store wakes in-process
    // readers on every append, which at a thousand appends a second would make the runner commit
    // a transaction per append. Polling every 200 ms applies the same events in a few big batches
    // (the projection is the durable read model; the live view is in memory already).
    const quietStore = new PostgresEventStore(pool, { logger: this.log });
    this.runner = new ProjectionRunner(pool, quietStore, this.parts.foreign.following(new WorkerRegistryProjection()), { batchSize: 1_000, pollIntervalMs: 200, logger: this.log });
    const caughtUp = await this.runner.catchUp();
    const loaded = await loadWorkerAggregates(pool);
    const versions = await this.parts.streams.streamVersions(workerStream(''));
    for (const [name, agg] of loaded) live.set(name, agg, versions.get(workerStream(name)) ?? 0, Date.parse(agg.worker.lastSeen));
    this.parts.foreign.active = true;
    await this.runner.start();
    this.parts.liveness.start();
    this.parts.stats.start(this.parts.statsLogIntervalMs);
    this.started = true;
    this.log.info({ workers: loaded.size, caughtUp }, 'worker registry loaded from its projection');
  }

  /** Finishes work in progress, writes last-seen times, stops following the log, lets the lock go. */
  async stop(): Promise<void> {
    this.parts.leadership.stopStandingBy();
    this.parts.liveness.stop();
    this.parts.stats.stop();
    await this.parts.live.queue.idle();
    await this.parts.liveness.flushSeen();
    await this.runner?.stop();
    this.parts.foreign.active = false;
    await this.parts.live.queue.idle();
    await this.parts.leadership.release();
    this.started = false;
  }

  /** The recorded state of every worker (what the projection tables hold, last-seen aside). */
  snapshot(): Map<string, WorkerAggregate> {
    const out = new Map<string, WorkerAggregate>();
    for (const [n, w] of this.parts.live.entries()) out.set(n, cloneAggregate(w.agg));
    return out;
  }
}
