// One process's handle on the event store database: the DataSource (migrations), its pg Pool, and
// the store, checkpoints, leader locks and projection runners built on them. Apps open one at
// start-up and close it at shutdown.
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { EventCatalog } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { createEventStoreDataSource, poolOf, type EventStoreDataSourceOptions } from './data-source';
import { migrate } from './migrate';
import { PostgresEventStore, type PostgresEventStoreOptions } from './postgres-event-store';
import { PostgresCheckpointStore } from './postgres-checkpoint-store';
import { PostgresLeaderLock, type PostgresLeaderLockOptions } from './postgres-leader-lock';
import { ProjectionRunner, type ProjectionRunnerOptions, type RebuildProgress, type RebuildResult } from './projections/projection-runner';
import type { Projection } from './projections/projection';

export interface OpenEventStoreOptions extends EventStoreDataSourceOptions {
  /** Create the database and apply pending migrations first (default false). */
  migrate?: boolean;
  catalog?: EventCatalog;
  /** Group commit of concurrent appends (PostgresEventStoreOptions.groupCommit; default on). */
  groupCommit?: PostgresEventStoreOptions['groupCommit'];
}

export class EventStoreConnection {
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  readonly checkpoints: PostgresCheckpointStore;

  private constructor(
    readonly url: string,
    readonly dataSource: DataSource,
    private readonly logger: Logger | undefined,
    catalog: EventCatalog | undefined,
    groupCommit: PostgresEventStoreOptions['groupCommit'],
  ) {
    this.pool = poolOf(dataSource);
    this.store = new PostgresEventStore(this.pool, { ...(catalog ? { catalog } : {}), ...(logger ? { logger } : {}), ...(groupCommit !== undefined ? { groupCommit } : {}) });
    this.checkpoints = new PostgresCheckpointStore(this.pool);
  }

  static async open(url: string, opts: OpenEventStoreOptions = {}): Promise<EventStoreConnection> {
    if (opts.migrate) await migrate(url, opts.logger);
    const dataSource = createEventStoreDataSource(url, opts);
    await dataSource.initialize();
    return new EventStoreConnection(url, dataSource, opts.logger, opts.catalog, opts.groupCommit);
  }

  /** A lock for a role; it holds its own connection, outside the pool. */
  leaderLock(name: string, opts: PostgresLeaderLockOptions = {}): PostgresLeaderLock {
    return new PostgresLeaderLock(this.url, name, { ...(this.logger ? { logger: this.logger } : {}), ...opts });
  }

  projectionRunner(projection: Projection, opts: ProjectionRunnerOptions = {}): ProjectionRunner {
    return new ProjectionRunner(this.pool, this.store, projection, { ...(this.logger ? { logger: this.logger } : {}), ...opts });
  }

  rebuild(projection: Projection, onProgress?: (p: RebuildProgress) => void, opts: Omit<ProjectionRunnerOptions, 'startFrom'> = {}): Promise<RebuildResult> {
    return this.projectionRunner(projection, opts).rebuild(onProgress);
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

export function openEventStore(url: string, opts: OpenEventStoreOptions = {}): Promise<EventStoreConnection> {
  return EventStoreConnection.open(url, opts);
}
