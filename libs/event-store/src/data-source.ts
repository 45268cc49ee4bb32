// The TypeORM DataSource of the event store database: migrations only (the schema is never
// synchronized), plus access to the pg Pool underneath it, which the hot paths (append, readAll,
// projections) use directly with named prepared statements.
import { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import type { Logger } from '@fleetvisor/platform';
import { EVENT_STORE_MIGRATIONS, MIGRATIONS_TABLE } from './schema/migrations';
import { PinoTypeOrmLogger } from './typeorm-logger';

export interface EventStoreDataSourceOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity (default 'fleetvisor'). */
  applicationName?: string;
  connectTimeoutMs?: number;
  logger?: Logger;
}

export function createEventStoreDataSource(url: string, opts: EventStoreDataSourceOptions = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    applicationName: opts.applicationName ?? 'fleetvisor',
    poolSize: opts.poolSize ?? 10,
    connectTimeoutMS: opts.connectTimeoutMs ?? 10_000,
    synchronize: false,
    migrationsRun: false,
    migrations: EVENT_STORE_MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    logging: opts.logger ? ['error', 'warn', 'migration', 'schema'] : false,
    ...(opts.logger ? { logger: new PinoTypeOrmLogger(opts.logger) } : {}),
  });
}

function isPool(value: unknown): value is Pool {
  const v = value as Partial<Pool> | null | undefined;
  return typeof v?.query === 'function' && typeof v?.connect === 'function';
}

/** The pg Pool of an initialized postgres DataSource (TypeORM types it as any). */
export function poolOf(dataSource: DataSource): Pool {
  if (!dataSource.isInitialized) throw new Error('the event store DataSource is not initialized');
  if (dataSource.options.type !== 'postgres') throw new Error(`the event store needs a postgres DataSource, got ${dataSource.options.type}`);
  const master: unknown = (dataSource.driver as { master?: unknown }).master;
  if (!isPool(master)) throw new Error('the postgres DataSource has no pg Pool (replication setups are not supported)');
  return master;
}
