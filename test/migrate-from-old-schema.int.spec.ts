// A database migrated by an earlier Fleetvisor (every migration in one list, the worker-registry's
// tables among the event store's) is brought up to date by today's `fleetvisor migrate`, where each
// app owns its migrations: nothing is applied twice and no event is lost.
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { newEvent, HostOnline } from '@fleetvisor/contracts';
import { EVENT_STORE_MIGRATIONS, MIGRATIONS_TABLE, migrate, openEventStore, type SchemaMigrations } from '@fleetvisor/event-store';
import { createTestDatabase, type TestDatabase } from '@fleetvisor/testing';
import { appSchemaMigrations } from '../apps/cli/src/app-routes';
import { MIGRATIONS as WORKER_REGISTRY_MIGRATIONS } from '../apps/worker-registry/src/migrations';
import { MIGRATIONS as STATS_COLLECTOR_MIGRATIONS } from '../apps/stats-collector/src/migrations';
import { MIGRATIONS as GATEWAY_MIGRATIONS } from '../apps/gateway/src/migrations';

/** What later releases add to that schema: the stats-collector's tables (0.2), the gateway's tokens. */
const NEW_IN_THIS_RELEASE = [...STATS_COLLECTOR_MIGRATIONS, ...GATEWAY_MIGRATIONS].map((m) => new m().name);

// How the earlier releases ran them: one DataSource, one list (libs/event-store/src/schema/migrations.ts
// before the registry's moved to apps/worker-registry).
const EARLIER_RELEASE: SchemaMigrations = [...EVENT_STORE_MIGRATIONS, ...WORKER_REGISTRY_MIGRATIONS];

async function migrateAsEarlierRelease(url: string, upTo: number): Promise<void> {
  const ds = new DataSource({ type: 'postgres', url, migrations: [...EARLIER_RELEASE.slice(0, upTo)], migrationsTableName: MIGRATIONS_TABLE, migrationsTransactionMode: 'each' });
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

async function query<T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

const hostOnline = (i: number) => newEvent(HostOnline, `old-host-${i}`, { host: `old-host-${i}`, process: 'fleetvisor', pid: 100 + i, fleetvisorVersion: '0.1.0' }, { host: `old-host-${i}` });

describe('fleetvisor migrate over a database of an earlier release', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('every app owns its migrations, and their names are those the earlier releases recorded', async () => {
    const names = (await appSchemaMigrations()).map((m) => new m().name);
    expect(names.sort()).toEqual([...WORKER_REGISTRY_MIGRATIONS.map((m) => new m().name), ...NEW_IN_THIS_RELEASE].sort());
  });

  it("a database fully migrated by the earlier release: only this release's new migrations are applied, every event and table stays", async () => {
    const db = await createTestDatabase('fvt_oldschema');
    dbs.push(db);
    await migrateAsEarlierRelease(db.url, EARLIER_RELEASE.length);
    const conn = await openEventStore(db.url);
    for (let i = 0; i < 5; i++) await conn.store.appendToStream(`host-old-host-${i}`, [hostOnline(i)], { expectedVersion: 'no_stream' });
    await conn.close();
    const recordedBefore = await query(db.url, `SELECT id, name FROM ${MIGRATIONS_TABLE} ORDER BY id`);

    expect(await migrate(db.url, undefined, await appSchemaMigrations())).toEqual(NEW_IN_THIS_RELEASE);
    expect((await query<{ id: number; name: string }>(db.url, `SELECT id, name FROM ${MIGRATIONS_TABLE} ORDER BY id`)).slice(0, recordedBefore.length)).toEqual(recordedBefore);
    expect(await migrate(db.url, undefined, await appSchemaMigrations())).toEqual([]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM fv_events')).toEqual([{ n: 5 }]);
    expect((await query<{ t: string }>(db.url, "SELECT tablename AS t FROM pg_tables WHERE tablename LIKE 'fv_proj_worker%'")).map((r) => r.t).sort()).toEqual([
      'fv_proj_worker_sectors',
      'fv_proj_workers',
    ]);
  });

  it("a database the earlier release left one migration behind (the registry's tables): exactly that one is applied, events kept", async () => {
    const db = await createTestDatabase('fvt_oldschema');
    dbs.push(db);
    await migrateAsEarlierRelease(db.url, EARLIER_RELEASE.length - 1);
    const conn = await openEventStore(db.url);
    for (let i = 0; i < 3; i++) await conn.store.appendToStream(`host-old-host-${i}`, [hostOnline(i)], { expectedVersion: 'no_stream' });
    await conn.close();
    expect(await migrate(db.url, undefined, await appSchemaMigrations())).toEqual([...EARLIER_RELEASE.slice(-1).map((m) => new m().name), ...NEW_IN_THIS_RELEASE]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM fv_events')).toEqual([{ n: 3 }]);
    expect(await migrate(db.url, undefined, await appSchemaMigrations())).toEqual([]);
  });
});
