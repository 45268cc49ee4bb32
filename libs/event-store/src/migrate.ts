// Brings a database to the current schema: creates the database when it is missing (through the
// `postgres` database of the same server), then runs the pending TypeORM migrations: the event
// store's and those the caller adds (an app's own tables), in timestamp order. Safe to run
// from several processes at once: they take turns on an advisory lock, and the later ones find
// nothing pending.
import { Client } from 'pg';
import type { Logger } from '@fleetvisor/platform';
import { advisoryLockKey } from './advisory-lock-key';
import { createEventStoreDataSource } from './data-source';
import { databaseUrlOf, explainPgRefusal, pgConnectionSettings, withDatabaseName, type DatabaseTarget } from './pg-connection';
import type { SchemaMigrations } from './schema/migrations';

const MIGRATE_LOCK_NAME = 'fleetvisor:event-store:migrate';

function databaseNameOf(target: DatabaseTarget): string {
  const name = decodeURIComponent(new URL(databaseUrlOf(target)).pathname.replace(/^\//, ''));
  if (name === '') throw new Error('the database URL names no database');
  return name;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Creates the database named in the URL when missing. True when it was created. */
export async function ensureDatabase(target: DatabaseTarget, logger?: Logger): Promise<boolean> {
  const name = databaseNameOf(target);
  const adminTarget = withDatabaseName(target, 'postgres');
  const admin = new Client({ ...pgConnectionSettings(adminTarget), application_name: 'fleetvisor-migrate' });
  await admin.connect().catch((e: unknown) => {
    throw explainPgRefusal(e, target);
  });
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (e) {
      // Another process created it between our check and our CREATE (duplicate_database, or the
      // unique index of pg_database when both CREATEs ran at the same moment).
      const code = (e as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw e;
    }
    logger?.info({ database: name }, 'created database');
    return true;
  } finally {
    await admin.end();
  }
}

/** Drops the database named in the URL (closing its connections first). True when it existed. */
export async function dropDatabase(target: DatabaseTarget, logger?: Logger): Promise<boolean> {
  const name = databaseNameOf(target);
  const admin = new Client({ ...pgConnectionSettings(withDatabaseName(target, 'postgres')), application_name: 'fleetvisor-migrate' });
  await admin.connect().catch((e: unknown) => {
    throw explainPgRefusal(e, target);
  });
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!found.rowCount) return false;
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    logger?.info({ database: name }, 'dropped database');
    return true;
  } finally {
    await admin.end();
  }
}

/** Creates the database if needed and applies pending migrations; returns the names applied. */
export async function migrate(target: DatabaseTarget, logger?: Logger, migrations: SchemaMigrations = []): Promise<string[]> {
  await ensureDatabase(target, logger);
  // TypeORM does not serialize concurrent migration runs itself; a session lock on a connection of
  // our own does, and it is released even if this process dies mid-way.
  const lock = new Client({ ...pgConnectionSettings(target), application_name: 'fleetvisor-migrate' });
  await lock.connect().catch((e: unknown) => {
    throw explainPgRefusal(e, target);
  });
  try {
    await lock.query('SELECT pg_advisory_lock($1::bigint)', [advisoryLockKey(MIGRATE_LOCK_NAME)]);
    const dataSource = createEventStoreDataSource(target, { poolSize: 1, applicationName: 'fleetvisor-migrate', migrations, ...(logger ? { logger } : {}) });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      const names = applied.map((m) => m.name);
      if (names.length > 0) logger?.info({ migrations: names }, 'schema migrations applied');
      return names;
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await lock.end();
  }
}

/** Whether any of these migrations (the event store's and the given ones) is not applied yet. */
export async function migrationsPending(target: DatabaseTarget, migrations: SchemaMigrations = []): Promise<boolean> {
  const dataSource = createEventStoreDataSource(target, { poolSize: 1, applicationName: 'fleetvisor-migrate', migrations });
  await dataSource.initialize();
  try {
    return await dataSource.showMigrations();
  } finally {
    await dataSource.destroy();
  }
}
