import { afterAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@fleetvisor/testing';
import type { QueryRunner } from 'typeorm';
import { migrate, migrationsPending } from './migrate';
import { createEventStoreDataSource } from './data-source';

const ALL = [
  'CreateEventLog1767225600000',
  'CreateAppendFunction1767225600001',
  'CreateStreamStatsProjection1767225600002',
  'AppendFastPath1767225600003',
  'AppendMany1767225600004',
  'AppendGroup1767225600005',
  'JsonPayloads1767225600006',
];

describe('migrate', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  async function missingDatabase(): Promise<TestDatabase> {
    // Reserve a unique name, then drop it: migrate() must create the database itself.
    const db = await createTestDatabase('fvmig');
    dbs.push(db);
    await db.drop();
    return db;
  }

  async function tables(url: string): Promise<string[]> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
      return r.rows.map((x) => x.t);
    } finally {
      await c.end();
    }
  }

  it('creates a missing database, applies every migration, and is idempotent', async () => {
    const db = await missingDatabase();
    expect(await migrate(db.url)).toEqual(ALL);
    expect(await tables(db.url)).toEqual([
      'fv_checkpoints',
      'fv_events',
      'fv_migrations',
      'fv_proj_event_counts',
      'fv_proj_stream_heads',
      'fv_streams',
    ]);
    expect(await migrate(db.url)).toEqual([]);

    const ds = createEventStoreDataSource(db.url, { poolSize: 1 });
    await ds.initialize();
    try {
      expect(await ds.showMigrations()).toBe(false);
    } finally {
      await ds.destroy();
    }
  });

  it("applies an app's own migrations with the event store's, in timestamp order, and reports them pending until then", async () => {
    const db = await missingDatabase();
    class CreateAppTable1767225599999 {
      readonly name = 'CreateAppTable1767225599999';
      async up(q: QueryRunner): Promise<void> {
        await q.query('CREATE TABLE fv_app_things (id int PRIMARY KEY)');
      }
      async down(q: QueryRunner): Promise<void> {
        await q.query('DROP TABLE fv_app_things');
      }
    }
    expect(await migrate(db.url)).toEqual(ALL);
    expect(await migrationsPending(db.url)).toBe(false);
    expect(await migrationsPending(db.url, [CreateAppTable1767225599999])).toBe(true);
    expect(await migrate(db.url, undefined, [CreateAppTable1767225599999])).toEqual(['CreateAppTable1767225599999']);
    expect(await tables(db.url)).toContain('fv_app_things');
    expect(await migrationsPending(db.url, [CreateAppTable1767225599999])).toBe(false);

    const fresh = await missingDatabase();
    expect(await migrate(fresh.url, undefined, [CreateAppTable1767225599999])).toEqual(['CreateAppTable1767225599999', ...ALL]);
  });

  it('lets concurrent processes migrate one database: each migration runs once', async () => {
    const db = await missingDatabase();
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    expect(results.flat().sort()).toEqual([...ALL].sort());
    expect(results.filter((r) => r.length > 0)).toHaveLength(1);
  });
});
