// The TypeORM DataSource of the event store database: the schema migrations (the event store's and
// the apps' own; the schema is never synchronized) and, for apps that read their tables through
// TypeORM, its entities. The hot paths (append, readAll, projections) use a pg Pool of their own
// (EventStoreConnection), not this one.
import { DataSource, type EntitySchema } from 'typeorm';
import type { Logger } from '@fleetvisor/platform';
import { EVENT_STORE_MIGRATIONS, MIGRATIONS_TABLE, type SchemaMigrations } from './schema/migrations';
import { pgConnectionSettings, type DatabaseTarget } from './pg-connection';
import { PinoTypeOrmLogger } from './typeorm-logger';

export interface EventStoreDataSourceOptions {
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** Shown in pg_stat_activity (default 'fleetvisor'). */
  applicationName?: string;
  connectTimeoutMs?: number;
  logger?: Logger;
  /** Migrations of the app's own tables, run with the event store's in timestamp order. */
  migrations?: SchemaMigrations;
  /** Entities the app reads and writes through TypeORM repositories. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type for entity classes
  entities?: readonly (Function | EntitySchema)[];
}

export function createEventStoreDataSource(target: DatabaseTarget, opts: EventStoreDataSourceOptions = {}): DataSource {
  const { connectionString, ssl } = pgConnectionSettings(target);
  return new DataSource({
    type: 'postgres',
    url: connectionString,
    ...(ssl !== undefined ? { ssl } : {}),
    applicationName: opts.applicationName ?? 'fleetvisor',
    poolSize: opts.poolSize ?? 10,
    connectTimeoutMS: opts.connectTimeoutMs ?? 10_000,
    synchronize: false,
    migrationsRun: false,
    migrations: [...EVENT_STORE_MIGRATIONS, ...(opts.migrations ?? [])],
    entities: [...(opts.entities ?? [])],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    logging: opts.logger ? ['error', 'warn', 'migration', 'schema'] : false,
    ...(opts.logger ? { logger: new PinoTypeOrmLogger(opts.logger) } : {}),
  });
}
