// The outbox relay against the real Postgres log and JetStream: exactly once, in log order,
// leader failover, and a NATS crash/restart in the middle of a stream of appends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'pg';
import pino from 'pino';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { createSubjects, fleetEvents, HostOffline, newEvent, type EventEnvelope, type Subjects } from '@fleetvisor/contracts';
import { migrate, PostgresCheckpointStore, PostgresEventStore, PostgresLeaderLock, type CheckpointStore } from '@fleetvisor/event-store';
import {
  createTestDatabase,
  expectEventually,
  sharedNatsUrl,
  startPrivateNats,
  testBusNames,
  type PrivateNats,
  type TestDatabase,
} from '@fleetvisor/testing';
import { connectNats } from './nats-connection';
import { deadLetterStreamName, ensureEventStream } from './event-stream';
import { OutboxRelay, toEnvelope } from './outbox-relay';

const logger = pino({ level: 'silent' });
const LOCK = 'fleetvisor:relay';

function offline(host: string, i: number): EventEnvelope {
  return newEvent(HostOffline, host, { host, process: 'relay-test', pid: i + 1, reason: `event ${i}` });
}

interface StoredEvent {
  seq: number;
  msgId: string | undefined;
  subject: string;
  json: unknown;
}

async function readStream(jsm: JetStreamManager, name: string): Promise<StoredEvent[]> {
  const info = await jsm.streams.info(name);
  const out: StoredEvent[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(name, { seq });
    out.push({ seq, msgId: m.header?.get('Nats-Msg-Id'), subject: m.subject, json: m.json() });
  }
  return out;
}

async function messageCount(jsm: JetStreamManager, name: string): Promise<number> {
  return (await jsm.streams.info(name)).state.messages;
}

/** One relay process: its own pool, NATS connection and lock connection. */
interface RelayProcess {
  relay: OutboxRelay;
  store: PostgresEventStore;
  /** From now on every checkpoint save fails: the relay publishes but cannot record it (a process about to die). */
  freezeCheckpoint(): void;
  close(): Promise<void>;
}

async function startRelayProcess(
  dbUrl: string,
  natsUrl: string,
  bus: { subjects: Subjects; streamName: string },
  tuning: { batchSize?: number } = {},
): Promise<RelayProcess> {
  const pool = new Pool({ connectionString: dbUrl, max: 3 });
  const nc = await connectNats(natsUrl, logger, { reconnectTimeWaitMs: 100 });
  const store = new PostgresEventStore(pool);
  const real = new PostgresCheckpointStore(pool);
  let frozen = false;
  const checkpoints: CheckpointStore = {
    load: (name) => real.load(name),
    save: async (name, checkpoint) => {
      if (frozen) throw new Error('simulated: checkpoint not saved');
      await real.save(name, checkpoint);
    },
  };
  const relay = new OutboxRelay({
    store,
    checkpoints,
    lock: new PostgresLeaderLock(dbUrl, LOCK, { healthCheckIntervalMs: 500 }),
    js: nc.jetstream(),
    subjects: bus.subjects,
    streamName: bus.streamName,
    logger,
    batchSize: tuning.batchSize ?? 32,
    publishTimeoutMs: 1_000,
    retryBackoff: { initialMs: 50, maxMs: 500 },
  });
  relay.start();
  return {
    relay,
    store,
    freezeCheckpoint: () => {
      frozen = true;
    },
    async close() {
      await relay.stop();
      await nc.close();
      await pool.end();
    },
  };
}

describe('OutboxRelay (Postgres + shared NATS)', () => {
  const bus = testBusNames();
  const subjects = createSubjects(bus.subjectRoot);
  let db: TestDatabase;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let writerPool: Pool;
  let writer: PostgresEventStore;
  const toClose: RelayProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('fvmsg_relay');
    await migrate(db.url);
    writerPool = new Pool({ connectionString: db.url, max: 8 });
    writer = new PostgresEventStore(writerPool);
    nc = await connect({ servers: sharedNatsUrl() });
    jsm = await nc.jetstreamManager();
  });

  afterAll(async () => {
    await Promise.allSettled(toClose.map((p) => p.close()));
    await writerPool?.end();
    await jsm?.streams.delete(bus.eventStreamName).catch(() => undefined);
    await jsm?.streams.delete(deadLetterStreamName(bus.eventStreamName)).catch(() => undefined);
    await nc?.close();
    await db?.drop();
  });

  async function resetStream(): Promise<void> {
    await jsm.streams.delete(bus.eventStreamName).catch(() => undefined);
    // Small limits: JetStream reserves max_bytes on the shared server.
    await ensureEventStream(jsm, { name: bus.eventStreamName, subjects: subjects.allEvents(), maxAgeMs: 3_600_000, duplicateWindowMs: 120_000, maxBytes: 64 * 1024 ** 2, deadLetter: { maxBytes: 16 * 1024 ** 2 } });
  }

  it('publishes every appended event exactly once, in log order, with Nats-Msg-Id = event id', async () => {
    await resetStream();
    const proc = await startRelayProcess(db.url, sharedNatsUrl(), { subjects, streamName: bus.eventStreamName }, { batchSize: 16 });
    toClose.push(proc);
    // five concurrent writers on five streams
    const perWriter = 40;
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (w) => {
        for (let i = 0; i < perWriter; i++) await writer.appendToStream(`host-h${w}`, [offline(`h${w}`, i)]);
      }),
    );
    const total = 5 * perWriter;
    await expectEventually(async () => expect(await messageCount(jsm, bus.eventStreamName)).toBe(total), { timeoutMs: 20_000 });

    const log = await writer.readAll('0:0', 10_000);
    expect(log.events).toHaveLength(total);
    const stored = await readStream(jsm, bus.eventStreamName);
    expect(stored.map((m) => m.msgId)).toEqual(log.events.map((e) => e.id));
    for (let i = 0; i < total; i++) {
      const e = log.events[i]!;
      expect(stored[i]!.subject).toBe(subjects.event(e.stream, e.type));
      expect(stored[i]!.json).toEqual(toEnvelope(e));
      expect(fleetEvents.parse(stored[i]!.json).ok).toBe(true);
    }
    await expectEventually(() => expect(proc.relay.status().checkpoint).toBe(log.checkpoint));
    expect(await new PostgresCheckpointStore(writerPool).load('relay')).toBe(log.checkpoint);
    // nothing more arrives later
    await new Promise((r) => setTimeout(r, 300));
    expect(await messageCount(jsm, bus.eventStreamName)).toBe(total);
    expect(proc.relay.status()).toMatchObject({ leader: true, published: total, lastError: undefined });
    expect(proc.relay.metrics().duplicates).toBe(0);
    await proc.close();
  });

  it('fails over: one relay publishes, the standby takes over within 5 s of the leader dying, nothing lost or doubled', async () => {
    // Fresh stream; the relay checkpoint stays at the end of the previous test's events.
    await resetStream();
    const a = await startRelayProcess(db.url, sharedNatsUrl(), { subjects, streamName: bus.eventStreamName });
    toClose.push(a);
    await expectEventually(() => expect(a.relay.status().leader).toBe(true));
    const b = await startRelayProcess(db.url, sharedNatsUrl(), { subjects, streamName: bus.eventStreamName });
    toClose.push(b);

    // A steady stream of appends during the whole scenario.
    const ids: string[] = [];
    let writing = true;
    const writerLoop = (async () => {
      for (let i = 0; writing; i++) {
        const e = offline('failover', i);
        await writer.appendToStream('host-failover', [e]);
        ids.push(e.id);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    await expectEventually(() => expect(a.relay.status().published).toBeGreaterThan(50), { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1_500)); // B has retried the lock at least once meanwhile
    expect(b.relay.status().leader).toBe(false);
    expect(b.relay.status().published).toBe(0);

    // The leader is about to die: it keeps publishing but its checkpoint no longer moves, so the
    // standby will publish those events again and the stream's duplicate window must drop them.
    a.freezeCheckpoint();
    const publishedWhenFrozen = a.relay.status().published;
    await expectEventually(() => expect(a.relay.status().published).toBeGreaterThan(publishedWhenFrozen + 10), { timeoutMs: 5_000 });

    // The leader dies: its lock session is terminated and the process stops.
    const killedAt = Date.now();
    const term = await writerPool.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = $1`,
      [`fleetvisor-lock:${LOCK}`],
    );
    expect(term.rows[0]!.n).toBe(1);
    await expectEventually(() => expect(a.relay.metrics().leaderLost).toBe(1), { timeoutMs: 3_000 });
    const publishedByA = a.relay.status().published;
    await a.close();
    toClose.splice(toClose.indexOf(a), 1);

    await expectEventually(() => expect(b.relay.status().leader).toBe(true), { timeoutMs: 5_000, intervalMs: 10 });
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(5_000);
    await expectEventually(() => expect(b.relay.status().published).toBeGreaterThan(20), { timeoutMs: 10_000 });

    writing = false;
    await writerLoop;
    await expectEventually(async () => expect(await messageCount(jsm, bus.eventStreamName)).toBe(ids.length), { timeoutMs: 20_000 });
    const stored = await readStream(jsm, bus.eventStreamName);
    expect(stored).toHaveLength(ids.length);
    expect(new Set(stored.map((m) => m.msgId)).size).toBe(ids.length);
    expect(new Set(stored.map((m) => m.msgId))).toEqual(new Set(ids));
    // B republished what A had sent but not checkpointed: the duplicate window dropped it.
    await new Promise((r) => setTimeout(r, 300));
    expect(await messageCount(jsm, bus.eventStreamName)).toBe(ids.length);
    expect(publishedByA).toBeGreaterThan(0);
    expect(b.relay.metrics().published).toBeGreaterThan(0);
    expect(b.relay.metrics().duplicates).toBeGreaterThan(0);
    await b.close();
    toClose.splice(toClose.indexOf(b), 1);
  });
});

describe('OutboxRelay across a NATS crash and restart (private NATS)', () => {
  const bus = testBusNames();
  const subjects = createSubjects(bus.subjectRoot);
  let db: TestDatabase;
  let nats: PrivateNats;
  let writerPool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('fvmsg_relay_nats');
    await migrate(db.url);
    writerPool = new Pool({ connectionString: db.url, max: 4 });
    nats = await startPrivateNats();
  });

  afterAll(async () => {
    await writerPool?.end();
    await nats?.stop();
    await db?.drop();
  });

  it('every event arrives exactly once although NATS is killed and restarted while the relay publishes', async () => {
    const setup = await connect({ servers: nats.url });
    const jsm = await setup.jetstreamManager();
    // Small limits: JetStream reserves max_bytes on the shared server.
    await ensureEventStream(jsm, { name: bus.eventStreamName, subjects: subjects.allEvents(), maxAgeMs: 3_600_000, duplicateWindowMs: 120_000, maxBytes: 64 * 1024 ** 2, deadLetter: { maxBytes: 16 * 1024 ** 2 } });
    await setup.close();

    const writer = new PostgresEventStore(writerPool);
    const proc = await startRelayProcess(db.url, nats.url, { subjects, streamName: bus.eventStreamName }, { batchSize: 16 });
    try {
      const ids: string[] = [];
      let writing = true;
      const writerLoop = (async () => {
        for (let i = 0; writing; i++) {
          const batch = [offline('nats', 2 * i), offline('nats', 2 * i + 1)];
          await writer.appendToStream('host-nats', batch);
          ids.push(...batch.map((e) => e.id));
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await expectEventually(() => expect(proc.relay.status().published).toBeGreaterThan(100), { timeoutMs: 10_000 });

      await nats.kill();
      await expectEventually(() => expect(proc.relay.status().lastError).toBeDefined(), { timeoutMs: 10_000 });
      const sentBeforeRestart = ids.length;
      await new Promise((r) => setTimeout(r, 1_000));
      await nats.restart();
      await expectEventually(() => expect(ids.length).toBeGreaterThan(sentBeforeRestart + 100), { timeoutMs: 10_000 });
      writing = false;
      await writerLoop;

      const check = await connect({ servers: nats.url });
      try {
        const jsm2 = await check.jetstreamManager();
        await expectEventually(async () => expect(await messageCount(jsm2, bus.eventStreamName)).toBe(ids.length), { timeoutMs: 30_000 });
        const stored = await readStream(jsm2, bus.eventStreamName);
        expect(stored).toHaveLength(ids.length);
        expect(new Set(stored.map((m) => m.msgId))).toEqual(new Set(ids));
        await new Promise((r) => setTimeout(r, 300));
        expect(await messageCount(jsm2, bus.eventStreamName)).toBe(ids.length);
      } finally {
        await check.close();
      }
      const m = proc.relay.metrics();
      expect(m.publishFailures).toBeGreaterThan(0);
      expect(proc.relay.status().consecutiveFailures).toBe(0);
    } finally {
      await proc.close();
    }
  });
});
