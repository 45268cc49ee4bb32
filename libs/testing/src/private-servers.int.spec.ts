// The private servers behave as fault tests need: they start on their own port, answer, die on
// kill(), and come back on restart() on the same port with their data.
import { existsSync, readFileSync } from 'node:fs';
import { connect, type NatsConnection, RetentionPolicy, StorageType, StringCodec } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectEventually,
  freePort,
  startPrivateNats,
  startPrivatePostgres,
  type PrivateNats,
  type PrivatePostgres,
} from './index';

async function query<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('freePort', () => {
  it('hands out distinct ports that can be bound', async () => {
    const a = await freePort();
    const b = await freePort();
    expect(a).toBeGreaterThan(0);
    expect(b).not.toBe(a);
  });
});

describe('startPrivatePostgres', () => {
  let pg: PrivatePostgres;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('runs its own server on a free port, not the shared 5432', async () => {
    expect(pg.port).not.toBe(5432);
    expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(pg.isRunning()).toBe(true);
    const [row] = await query<{ port: string; fsync: string }>(pg.url, `SELECT current_setting('port') AS port, current_setting('fsync') AS fsync`);
    expect(row).toEqual({ port: String(pg.port), fsync: 'off' });
  });

  it('kill() crashes it (connections fail) and restart() brings it back on the same port with committed data', async () => {
    await query(pg.url, 'CREATE TABLE fault_probe (id int PRIMARY KEY, note text)');
    await query(pg.url, `INSERT INTO fault_probe VALUES (1, 'before the crash')`);

    // a session open across the crash is cut off
    const held = new Client({ connectionString: pg.url });
    held.on('error', () => undefined);
    await held.connect();
    const backend = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    expect(existsSync(`/proc/${backend}`)).toBe(true);

    const port = pg.port;
    await pg.kill();
    expect(pg.isRunning()).toBe(false);
    // Every process of the server is dead when kill() returns, the backends too (they are in
    // process groups of their own): none answers a client after the crash.
    const state = existsSync(`/proc/${backend}/stat`) ? readFileSync(`/proc/${backend}/stat`, 'utf8').replace(/^.*\) /s, '')[0] : 'gone';
    expect(['gone', 'Z', 'X']).toContain(state);
    await expect(held.query('SELECT 1')).rejects.toThrow();
    await held.end().catch(() => undefined);
    await expect(query(pg.url, 'SELECT 1')).rejects.toThrow();

    await pg.restart();
    expect(pg.isRunning()).toBe(true);
    expect(pg.port).toBe(port);
    const rows = await expectEventually(() => query<{ id: number; note: string }>(pg.url, 'SELECT id, note FROM fault_probe'));
    expect(rows).toEqual([{ id: 1, note: 'before the crash' }]);
  });

  it('shutdown() then restart() keeps data too, and databaseUrl() reaches other databases', async () => {
    await query(pg.url, 'CREATE DATABASE other');
    await query(pg.databaseUrl('other'), 'CREATE TABLE t (v int)');
    await query(pg.databaseUrl('other'), 'INSERT INTO t VALUES (42)');
    await pg.shutdown();
    expect(pg.isRunning()).toBe(false);
    await pg.restart();
    expect(await query(pg.databaseUrl('other'), 'SELECT v FROM t')).toEqual([{ v: 42 }]);
  });

  it('stop() removes the server and its files', async () => {
    const other = await startPrivatePostgres();
    expect(existsSync(other.dataDir)).toBe(true);
    await other.stop();
    expect(other.isRunning()).toBe(false);
    expect(existsSync(other.dataDir)).toBe(false);
    await expect(query(other.url, 'SELECT 1')).rejects.toThrow();
    await other.stop(); // idempotent
  });
});

describe('startPrivateNats', () => {
  let nats: PrivateNats;
  const sc = StringCodec();

  beforeAll(async () => {
    nats = await startPrivateNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  async function withConnection<T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> {
    const nc = await connect({ servers: nats.url, reconnect: false, timeout: 2_000 });
    try {
      return await fn(nc);
    } finally {
      await nc.close();
    }
  }

  it('runs its own server with JetStream on a free port', async () => {
    expect(nats.port).not.toBe(4222);
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(nats.isRunning()).toBe(true);
    await withConnection(async (nc) => {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.getAccountInfo();
      expect(info.streams).toBe(0);
    });
  });

  it('kill() crashes it and restart() brings the stream back with its messages (file storage)', async () => {
    await withConnection(async (nc) => {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'], storage: StorageType.File, retention: RetentionPolicy.Limits });
      const js = nc.jetstream();
      for (let i = 1; i <= 3; i++) {
        const ack = await js.publish(`probe.m${i}`, sc.encode(`message ${i}`), { msgID: `m${i}` });
        expect(ack.seq).toBe(i);
      }
    });

    // a client that keeps reconnecting sees the outage and comes back on its own
    const watcher = await connect({ servers: nats.url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    const port = nats.port;
    await nats.kill();
    expect(nats.isRunning()).toBe(false);
    await expect(connect({ servers: nats.url, reconnect: false, timeout: 1_000 })).rejects.toThrow();

    await nats.restart();
    expect(nats.isRunning()).toBe(true);
    expect(nats.port).toBe(port);

    const stored = await withConnection(async (nc) => {
      const jsm = await nc.jetstreamManager();
      const si = await jsm.streams.info('PROBE');
      const bodies: string[] = [];
      for (let seq = 1; seq <= si.state.messages; seq++) bodies.push(sc.decode((await jsm.streams.getMessage('PROBE', { seq })).data));
      return { messages: si.state.messages, bodies };
    });
    expect(stored).toEqual({ messages: 3, bodies: ['message 1', 'message 2', 'message 3'] });

    // the long-lived client reconnected and can publish to the recovered stream (dedup window survived too)
    await expectEventually(async () => {
      const ack = await watcher.jetstream().publish('probe.m4', sc.encode('message 4'), { msgID: 'm4', timeout: 1_000 });
      expect(ack.seq).toBe(4);
    });
    const dup = await watcher.jetstream().publish('probe.m1', sc.encode('message 1'), { msgID: 'm1' });
    expect(dup.duplicate).toBe(true);
    await watcher.close();
  });

  it('stop() removes the server and its store', async () => {
    const other = await startPrivateNats();
    expect(existsSync(other.storeDir)).toBe(true);
    await other.stop();
    expect(other.isRunning()).toBe(false);
    expect(existsSync(other.storeDir)).toBe(false);
    await expect(connect({ servers: other.url, reconnect: false, timeout: 1_000 })).rejects.toThrow();
  });
});
