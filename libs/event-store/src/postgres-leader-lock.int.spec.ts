import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { createTestDatabase, expectEventually, type TestDatabase } from '@fleetvisor/testing';
import { PostgresLeaderLock } from './postgres-leader-lock';

let db: TestDatabase;
const locks: PostgresLeaderLock[] = [];

function lock(name: string, healthCheckIntervalMs = 0): PostgresLeaderLock {
  const l = new PostgresLeaderLock(db.url, name, { healthCheckIntervalMs });
  locks.push(l);
  return l;
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Kills the backend holding `name`'s lock, as a crashed process or dropped network would. */
async function terminateHolder(name: string): Promise<void> {
  const killed = await admin((c) =>
    c.query<{ ok: boolean }>('SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', [
      `fleetvisor-lock:${name}`,
    ]),
  );
  expect(killed.rows.map((r) => r.ok)).toEqual([true]);
}

beforeAll(async () => {
  db = await createTestDatabase('fvlock');
});

afterEach(async () => {
  for (const l of locks.splice(0)) await l.release();
});

afterAll(async () => {
  await db?.drop();
});

describe('PostgresLeaderLock', () => {
  it('lets only one of two locks on the same name hold it', async () => {
    const a = lock('relay');
    const b = lock('relay');
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);
    expect([a.held, b.held]).toEqual([true, false]);
    expect(await a.tryAcquire()).toBe(true); // re-entrant for the holder, still one lock
    expect(await b.tryAcquire()).toBe(false);

    await a.release();
    expect(a.held).toBe(false);
    expect(await b.tryAcquire()).toBe(true);
    expect(await a.tryAcquire()).toBe(false);
  });

  it('keeps different names independent', async () => {
    expect(await lock('watcher:chain-a').tryAcquire()).toBe(true);
    expect(await lock('watcher:chain-b').tryAcquire()).toBe(true);
  });

  it('frees the lock when the holder connection dies, and tells the holder it lost it', async () => {
    const a = lock('relay-kill');
    const b = lock('relay-kill');
    let lost = 0;
    a.onLost(() => lost++);
    expect(await a.tryAcquire()).toBe(true);
    expect(await b.tryAcquire()).toBe(false);

    await terminateHolder('relay-kill');
    await expectEventually(() => expect(lost).toBe(1));
    expect(a.held).toBe(false);
    expect(await b.tryAcquire()).toBe(true);
    // The old holder can come back only as a stand-by.
    expect(await a.tryAcquire()).toBe(false);
  });

  it('does not call onLost on a voluntary release', async () => {
    const a = lock('relay-release', 50);
    let lost = 0;
    a.onLost(() => lost++);
    expect(await a.tryAcquire()).toBe(true);
    await a.release();
    await new Promise((r) => setTimeout(r, 150));
    expect(lost).toBe(0);
  });

  it('keeps no connection open while standing by', async () => {
    const a = lock('relay-standby');
    const b = lock('relay-standby');
    await a.tryAcquire();
    await b.tryAcquire();
    const open = await admin((c) =>
      c.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1', ['fleetvisor-lock:relay-standby']),
    );
    expect(Number(open.rows[0]!.n)).toBe(1);
  });
});
