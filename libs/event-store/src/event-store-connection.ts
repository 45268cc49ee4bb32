// One process's handle on the event store database: a pg Pool for the hot paths (append, reads,
// projections, with named prepared statements), the store, checkpoints, leader locks and projection
// runners built on it, and, when an app asks for it, a TypeORM DataSource for its entities. Apps open
// one at start-up and close it at shutdown.
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { EventCatalog } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { createEventStoreDataSource, type EventStoreDataSourceOptions } from './data-source';
import { migrate, migrationsPending } from './migrate';
import { databaseUrlOf, explainPgRefusal, pgConnectionSettings, type DatabaseTarget } from './pg-connection';
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
  /** Connections of the TypeORM DataSource, when the app uses it (default 2). */
  typeormPoolSize?: number;
}

export class EventStoreConnection {
  readonly store: PostgresEventStore;
  readonly checkpoints: PostgresCheckpointStore;
  private dataSource: Promise<DataSource> | undefined;

  /** The database URL, without a password. */
  readonly url: string;

  private constructor(
    private readonly target: DatabaseTarget,
    readonly pool: Pool,
    private readonly opts: OpenEventStoreOptions,
  ) {
    this.url = databaseUrlOf(target);
    const { catalog, logger, groupCommit } = opts;
    this.store = new PostgresEventStore(this.pool, { ...(catalog ? { catalog } : {}), ...(logger ? { logger } : {}), ...(groupCommit !== undefined ? { groupCommit } : {}) });
    this.checkpoints = new PostgresCheckpointStore(this.pool);
  }

  private get logger(): Logger | undefined {
    return this.opts.logger;
  }

  static async open(target: DatabaseTarget, opts: OpenEventStoreOptions = {}): Promise<EventStoreConnection> {
    if (opts.migrate) await migrate(target, opts.logger, opts.migrations);
    const pool = new Pool({
      ...pgConnectionSettings(target),
      max: opts.poolSize ?? 10,
      application_name: opts.applicationName ?? 'fleetvisor',
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    });
    // An idle client that loses its server (a Postgres restart) must not crash the process: the
    // next query gets a new connection, and callers see that query's error.
    pool.on('error', (err) => opts.logger?.warn({ err }, 'idle PostgreSQL connection lost'));
    try {
      // Fail at open, with the server's own error, when the database cannot be reached.
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw explainPgRefusal(e, target);
    }
    return new EventStoreConnection(target, pool, opts);
  }

  /** Whether migrations of this connection's schema (the event store's and the app's) are pending. */
  migrationsPending(): Promise<boolean> {
    return migrationsPending(this.target, this.opts.migrations);
  }

  /**
   * The TypeORM DataSource over this database, with the app's entities: for tables an app reads
   * and writes through repositories. Initialized on first use (processes that only append and
   * read the log never open it).
   */
  typeorm(): Promise<DataSource> {
    this.dataSource ??= (async () => {
      const ds = createEventStoreDataSource(this.target, { ...this.opts, poolSize: this.opts.typeormPoolSize ?? 2 });
      await ds.initialize();
      return ds;
    })();
    return this.dataSource;
  }

  /** A lock for a role; it holds its own connection, outside the pool. */
  leaderLock(name: string, opts: PostgresLeaderLockOptions = {}): PostgresLeaderLock {
    return new PostgresLeaderLock(pgConnectionSettings(this.target), name, { ...(this.logger ? { logger: this.logger } : {}), ...opts });
  }

  projectionRunner(projection: Projection, opts: ProjectionRunnerOptions = {}): ProjectionRunner {
    return new ProjectionRunner(this.pool, this.store, projection, { ...(this.logger ? { logger: this.logger } : {}), ...opts });
  }

  rebuild(projection: Projection, onProgress?: (p: RebuildProgress) => void, opts: Omit<ProjectionRunnerOptions, 'startFrom'> = {}): Promise<RebuildResult> {
    return this.projectionRunner(projection, opts).rebuild(onProgress);
  }

  async close(): Promise<void> {
    const ds = this.dataSource;
    this.dataSource = undefined;
    await Promise.allSettled([this.pool.end(), ds?.then((d) => (d.isInitialized ? d.destroy() : undefined))]);
  }
}

/** `target`: a CoreConfig (URL, password, TLS) or a bare URL. */
export function openEventStore(target: DatabaseTarget, opts: OpenEventStoreOptions = {}): Promise<EventStoreConnection> {
  return EventStoreConnection.open(target, opts);
}
