// The gateway's two readers of Postgres, on a real database: the token table (hashed, revocation
// seen within the cache time, names unique) and the live event feed's resume (a client joining
// from an old position while events keep being appended gets every event once, in order).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostOnline, newEvent, type RecordedEvent } from '@fleetvisor/contracts';
import { openEventStore, type EventStoreConnection } from '@fleetvisor/event-store';
import { compareCheckpoints, START_CHECKPOINT } from '@fleetvisor/event-store/core';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, type TestDatabase } from '@fleetvisor/testing';
import { EventFeed } from './http/event-feed';
import { MIGRATIONS } from './migrations';
import { hashToken, TokenError, TokenStore } from './tokens/token-store';

let db: TestDatabase;
let conn: EventStoreConnection;
const logger = createLogger({ name: 'gateway-int', level: 'silent', format: 'json', stream: 'stderr' });

beforeAll(async () => {
  db = await createTestDatabase('gatewayint');
  conn = await openEventStore(db.url, { migrate: true, migrations: MIGRATIONS, poolSize: 6 });
});

afterAll(async () => {
  await conn?.close();
  await db?.drop();
});

describe('TokenStore', () => {
  it('keeps only the SHA-256 of a token; authenticates it; refuses a revoked one after the cache time', async () => {
    let now = 1_000_000;
    const tokens = new TokenStore(conn.pool, { cacheMs: 1_000, clock: () => now });
    const token = await tokens.create('alice', 'operate', 'test');
    expect(token).toMatch(/^fvt_[A-Za-z0-9_-]{43}$/);
    const stored = await conn.pool.query<{ token_hash: Buffer }>('SELECT token_hash FROM fv_gateway_tokens WHERE name = $1', ['alice']);
    expect(stored.rows[0]!.token_hash.equals(hashToken(token))).toBe(true);
    const all = await conn.pool.query('SELECT * FROM fv_gateway_tokens');
    expect(JSON.stringify(all.rows)).not.toContain(token.slice(4));
    expect(await tokens.authenticate(token)).toEqual({ name: 'alice', role: 'operate' });
    expect(await tokens.authenticate(`fvt_${'x'.repeat(43)}`)).toBeUndefined();
    expect(await tokens.authenticate('not-a-token')).toBeUndefined();
    await tokens.revoke('alice');
    // still cached for up to cacheMs, then refused
    expect(await tokens.authenticate(token)).toEqual({ name: 'alice', role: 'operate' });
    now += 1_001;
    expect(await tokens.authenticate(token)).toBeUndefined();
    expect((await tokens.list()).find((t) => t.name === 'alice')).toMatchObject({ role: 'operate', createdBy: 'test', revokedAt: expect.any(String) });
  });

  it('refuses a second token of the same name (even revoked), a bad name, and revoking twice', async () => {
    const tokens = new TokenStore(conn.pool);
    await tokens.create('bob', 'read', 'test');
    await expect(tokens.create('bob', 'admin', 'test')).rejects.toMatchObject({ code: 'conflict' });
    await expect(tokens.create('bad name', 'read', 'test')).rejects.toBeInstanceOf(TokenError);
    await tokens.revoke('bob');
    await expect(tokens.revoke('bob')).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('already revoked') });
    await expect(tokens.revoke('nobody')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('EventFeed', () => {
  const append = (n: number) =>
    conn.store.appendToStream(
      'host-feed',
      Array.from({ length: n }, () => newEvent(HostOnline, 'feed', { host: 'feed', process: 'test', pid: 1, fleetvisorVersion: '0.0.0' })),
    );

  it('a client resuming from an old position while events keep coming gets each event once, in order, then the live ones', async () => {
    await append(50);
    // The log hands out events only below every transaction still open on the server (gap-free
    // reads), and other suites' transactions count: a live client starts at the readable head, so
    // the fifty are waited for before it joins (else they reach it as new, which they are to it).
    const first = await expectEventually(async () => {
      const es = (await conn.store.readAll(START_CHECKPOINT, 100)).events;
      expect(es).toHaveLength(50);
      return es.slice(0, 10);
    });
    const feed = new EventFeed(conn.store, logger, 10);
    await feed.start();
    const live: RecordedEvent[] = [];
    const stopLive = await feed.subscribe(undefined, (es) => live.push(...es), () => false);
    const from = first[9]!.checkpoint;
    // appends go on while the resuming client catches up
    const appending = (async () => {
      for (let i = 0; i < 20; i++) await append(5);
    })();
    const got: RecordedEvent[] = [];
    const stop = await feed.subscribe(from, (es) => got.push(...es), () => false);
    await appending;
    await append(3);
    const all = await expectEventually(async () => {
      const es = (await conn.store.readAll(START_CHECKPOINT, 10_000)).events;
      expect(es).toHaveLength(50 + 20 * 5 + 3);
      return es;
    });
    await expectEventually(() => expect(got.length).toBe(all.length - 10));
    expect(got.map((e) => e.id)).toEqual(all.slice(10).map((e) => e.id));
    for (let i = 1; i < got.length; i++) expect(compareCheckpoints(got[i - 1]!.checkpoint, got[i]!.checkpoint)).toBeLessThan(0);
    // the live client saw exactly what was appended after it joined
    await expectEventually(() => expect(live.map((e) => e.id)).toEqual(all.slice(50).map((e) => e.id)));
    stop();
    stopLive();
    expect(feed.clients).toBe(0);
    await feed.stop();
  });

  it('ends the open streams when it stops', async () => {
    const feed = new EventFeed(conn.store, logger, 10);
    let ended = 0;
    feed.onStop(() => ended++);
    feed.onStop(() => ended++)();
    await feed.stop();
    expect(ended).toBe(1);
  });
});
