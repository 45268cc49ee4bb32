import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@fleetvisor/contracts';
import { createTestDatabase, expectEventually, type TestDatabase } from '@fleetvisor/testing';
import { migrate } from '../migrate';
import { openEventStore, type EventStoreConnection } from '../event-store-connection';
import { START_CHECKPOINT } from '../types';
import { compareCheckpoints, parseCheckpoint } from '../checkpoint';
import { noted, pinged, pings, testCatalog } from '../../test/test-events';
import { ALL_EVENT_TYPES, projectionCheckpointName, type Projection, type ProjectionTx } from './projection';
import { ProjectionRunner, type RebuildProgress } from './projection-runner';
import { StreamStatsProjection, readStreamStats } from './stream-stats-projection';

// Each test gets a database of its own: StreamStatsProjection's tables are per database.
let db: TestDatabase;
let conn: EventStoreConnection;
const runners: ProjectionRunner[] = [];

beforeEach(async () => {
  db = await createTestDatabase('fvproj');
  await migrate(db.url);
  conn = await openEventStore(db.url, { catalog: testCatalog, poolSize: 6 });
});

afterEach(async () => {
  for (const r of runners.splice(0)) await r.stop();
  await conn?.close();
  await db?.drop();
});

function runner(projection: Projection, opts: ConstructorParameters<typeof ProjectionRunner>[3] = {}): ProjectionRunner {
  const r = conn.projectionRunner(projection, { retryDelayMs: 20, ...opts });
  runners.push(r);
  return r;
}

/** Appends `perStream` pings to each of `streams` host streams and a note to a system stream. */
async function seed(streams: number, perStream: number, batch = 10): Promise<number> {
  let total = 0;
  for (let s = 0; s < streams; s++) {
    const stream = `host-h${s}`;
    for (let i = 0; i < perStream; i += batch) {
      const n = Math.min(batch, perStream - i);
      await conn.store.appendToStream(stream, pings(stream, n, i + 1));
      total += n;
    }
  }
  await conn.store.appendToStream('system-notes', [noted('system-notes', 'seeded')]);
  return total + 1;
}

async function storedCheckpoint(name: string): Promise<string | undefined> {
  return conn.checkpoints.find(projectionCheckpointName(name));
}

describe('ProjectionRunner (live)', () => {
  it('applies the log into StreamStatsProjection and whenCaughtUp waits for it', async () => {
    const total = await seed(3, 25);
    const r = runner(new StreamStatsProjection(), { batchSize: 7 });
    await r.start();
    await r.whenCaughtUp();
    // Immediately true after whenCaughtUp: it resolved only once everything was committed.
    const stats = await readStreamStats(conn.pool);
    expect(stats.eventCounts).toEqual({ Pinged: total - 1, Noted: 1 });
    expect(stats.streams.map((s) => [s.streamId, s.events, s.lastVersion, s.lastType])).toEqual([
      ['host-h0', 25, 25, 'Pinged'],
      ['host-h1', 25, 25, 'Pinged'],
      ['host-h2', 25, 25, 'Pinged'],
      ['system-notes', 1, 1, 'Noted'],
    ]);
    expect(r.checkpoint).toBe(await conn.store.lastCommittedCheckpoint());
    expect(await storedCheckpoint('stream-stats')).toBe(r.checkpoint);

    // Live: new appends are picked up.
    await conn.store.appendToStream('host-h9', pings('host-h9', 4));
    await r.whenCaughtUp();
    expect((await readStreamStats(conn.pool)).eventCounts).toEqual({ Pinged: total + 3, Noted: 1 });
  });

  it('wakes on in-process appends without waiting for its poll interval', async () => {
    const r = runner(new StreamStatsProjection(), { pollIntervalMs: 60_000 });
    await r.start();
    await r.whenCaughtUp();
    await new Promise((resolve) => setTimeout(resolve, 50)); // let it go idle for 60 s
    const t0 = Date.now();
    await conn.store.appendToStream('host-a', pings('host-a', 3));
    // Well under the 60 s poll (the wait beyond milliseconds is another suite's open transaction).
    await expectEventually(async () => expect((await readStreamStats(conn.pool)).eventCounts).toEqual({ Pinged: 3 }), { timeoutMs: 15_000, intervalMs: 5 });
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('whenCaughtUp waits for events held back by an older open transaction, and times out clearly', async () => {
    const r = runner(new StreamStatsProjection());
    await r.start();
    const blocker = await conn.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      await conn.store.appendToStream('host-a', pings('host-a', 2));
      await expect(r.whenCaughtUp(300)).rejects.toThrow(/did not catch up with \d+:\d+ within 300 ms/);
      await blocker.query('COMMIT');
    } finally {
      blocker.release();
    }
    await r.whenCaughtUp();
    expect((await readStreamStats(conn.pool)).eventCounts).toEqual({ Pinged: 2 });
  });

  it('reads only the types it handles, and still moves its checkpoint past the others', async () => {
    const seen: string[] = [];
    const pingsOnly: Projection = {
      name: 'pings-only',
      handles: ['Pinged'],
      applyBatch: async (events) => {
        seen.push(...events.map((e) => e.type));
      },
      reset: async () => undefined,
    };
    await conn.store.appendToStream('host-a', pings('host-a', 2));
    await conn.store.appendToStream('system-x', [noted('system-x', '1'), noted('system-x', '2')]);
    const r = runner(pingsOnly);
    await r.start();
    await r.whenCaughtUp();
    expect(seen).toEqual(['Pinged', 'Pinged']);
    expect(r.checkpoint).toBe(await conn.store.lastCommittedCheckpoint());
  });

  it("starts from 'end' or from a given checkpoint when it has none stored, and keeps it across restarts", async () => {
    await conn.store.appendToStream('host-old', pings('host-old', 5));
    // 'end' is the readable head, which never skips: wait until host-old is readable (another
    // suite's open transaction, in any database of the cluster, can hold the head back).
    await expectEventually(async () => expect(await conn.store.headCheckpoint()).toBe(await conn.store.lastCommittedCheckpoint()));
    const fromEnd = runner(new StreamStatsProjection(), { startFrom: 'end' });
    await fromEnd.start();
    await conn.store.appendToStream('host-new', pings('host-new', 2));
    await fromEnd.whenCaughtUp();
    expect((await readStreamStats(conn.pool)).streams.map((s) => s.streamId)).toEqual(['host-new']);
    await fromEnd.stop();

    // Restarted (even asking for the beginning) it resumes where it stood.
    await conn.store.appendToStream('host-new', pings('host-new', 1, 3));
    const again = runner(new StreamStatsProjection(), { startFrom: 'beginning' });
    await again.start();
    await again.whenCaughtUp();
    expect((await readStreamStats(conn.pool)).eventCounts).toEqual({ Pinged: 3 });

    const third = (await conn.store.readStream('host-old')).events[2]!;
    const fromCheckpoint = runner({ ...countingProjection('from-cp'), handles: ALL_EVENT_TYPES }, { startFrom: third.checkpoint });
    await fromCheckpoint.start();
    await fromCheckpoint.whenCaughtUp();
    expect(counted.get('from-cp')).toBe(2 + 3);
  });
});

const counted = new Map<string, number>();
function countingProjection(name: string): Projection {
  counted.set(name, 0);
  return {
    name,
    handles: ALL_EVENT_TYPES,
    applyBatch: async (events) => void counted.set(name, (counted.get(name) ?? 0) + events.length),
    reset: async () => void counted.set(name, 0),
  };
}

/** StreamStatsProjection that dies on one batch after writing its state, before the commit. */
class CrashingStats implements Projection {
  readonly name = 'stream-stats';
  readonly handles = ALL_EVENT_TYPES;
  private readonly inner = new StreamStatsProjection();
  calls = 0;

  constructor(
    private readonly crashOnCall: number,
    private readonly how: 'throw' | 'kill-connection',
  ) {}

  async applyBatch(events: readonly RecordedEvent[], tx: ProjectionTx): Promise<void> {
    await this.inner.applyBatch(events, tx);
    if (++this.calls !== this.crashOnCall) return;
    if (this.how === 'throw') throw new Error('simulated crash after writing state');
    // The backend dies mid-transaction, as when the process is killed: the server rolls back.
    await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
  }

  reset(tx: ProjectionTx): Promise<void> {
    return this.inner.reset(tx);
  }
}

describe('ProjectionRunner exactly-once', () => {
  for (const how of ['throw', 'kill-connection'] as const) {
    it(`applies every event exactly once across a crash between apply and checkpoint (${how})`, async () => {
      const total = await seed(2, 20, 5); // 41 events
      const crashing = new CrashingStats(2, how);
      const first = runner(crashing, { batchSize: 10, retryDelayMs: 60_000 });
      await first.start();
      await expectEventually(() => expect(first.lastError).toBeDefined());
      await first.stop();

      // What committed is the batch before the crash, its state and its checkpoint together, and
      // nothing of the crashed batch: the state counts exactly the events up to the checkpoint.
      const after1 = await readStreamStats(conn.pool);
      const projected = Object.values(after1.eventCounts).reduce((a, b) => a + b, 0);
      const checkpoint = await storedCheckpoint('stream-stats');
      const { transactionId, globalPosition } = parseCheckpoint(checkpoint!);
      const upTo = await conn.pool.query<{ n: string }>('SELECT count(*) AS n FROM fv_events WHERE (transaction_id, global_position) <= ($1::xid8, $2::bigint)', [
        transactionId.toString(),
        globalPosition.toString(),
      ]);
      expect(crashing.calls).toBe(2);
      expect(projected).toBeGreaterThan(0);
      expect(projected).toBeLessThan(total);
      expect(projected).toBe(Number(upTo.rows[0]!.n));

      // "Restart the process": a new runner of the same projection resumes from the checkpoint.
      const second = runner(new StreamStatsProjection(), { batchSize: 10 });
      await second.start();
      await second.whenCaughtUp();
      const stats = await readStreamStats(conn.pool);
      expect(stats.eventCounts).toEqual({ Pinged: total - 1, Noted: 1 });
      expect(stats.streams.map((s) => s.events)).toEqual([20, 20, 1]);
    });
  }

  it('applies every event exactly once with two runners of the same projection racing', async () => {
    const total = await seed(4, 50, 10);
    const a = runner(new StreamStatsProjection(), { batchSize: 3 });
    const b = conn.projectionRunner(new StreamStatsProjection(), { batchSize: 4, retryDelayMs: 5 });
    runners.push(b);
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.whenCaughtUp(), b.whenCaughtUp()]);
    expect((await readStreamStats(conn.pool)).eventCounts).toEqual({ Pinged: total - 1, Noted: 1 });
  });
});

describe('ProjectionRunner rebuild', () => {
  it('rebuilds to the same state as live, reporting progress', async () => {
    const total = await seed(5, 40, 7);
    const live = runner(new StreamStatsProjection(), { batchSize: 16 });
    await live.start();
    await live.whenCaughtUp();
    const liveState = await readStreamStats(conn.pool);

    const progress: RebuildProgress[] = [];
    const result = await live.rebuild((p) => progress.push(p));
    expect(result).toMatchObject({ processed: total, total, checkpoint: await conn.store.lastCommittedCheckpoint() });
    expect(progress.length).toBeGreaterThan(total / 16);
    expect(progress.at(-1)).toMatchObject({ processed: total, total });
    expect(progress.every((p, i) => i === 0 || p.processed >= progress[i - 1]!.processed)).toBe(true);
    expect(progress.at(-1)!.eventsPerSec).toBeGreaterThan(0);
    expect(await readStreamStats(conn.pool)).toEqual(liveState);

    // The runner that was live is live again after its rebuild.
    expect(live.running).toBe(true);
    await conn.store.appendToStream('host-h0', pings('host-h0', 1, 41));
    await live.whenCaughtUp();
    expect((await readStreamStats(conn.pool)).eventCounts['Pinged']).toBe(total);
  });

  it('replaces state that had drifted from the log', async () => {
    await seed(2, 5);
    const r = runner(new StreamStatsProjection());
    await r.catchUp();
    await conn.pool.query("UPDATE fv_proj_event_counts SET count = 999 WHERE type = 'Pinged'");
    await conn.pool.query("INSERT INTO fv_proj_event_counts VALUES ('Ghost', 1, 1)");
    await r.rebuild();
    expect((await readStreamStats(conn.pool)).eventCounts).toEqual({ Pinged: 10, Noted: 1 });
  });

  it('creates its tables with init() for projections without a migration', async () => {
    const perStream: Projection = {
      name: 'per-stream',
      handles: ['Pinged'],
      init: async (tx) => void (await tx.query('CREATE TABLE IF NOT EXISTS t_per_stream (stream_id text PRIMARY KEY, n bigint NOT NULL)')),
      applyBatch: async (events, tx) =>
        void (await tx.query(
          `INSERT INTO t_per_stream AS t SELECT s, count(*) FROM unnest($1::text[]) AS s GROUP BY s
           ON CONFLICT (stream_id) DO UPDATE SET n = t.n + excluded.n`,
          [events.map((e) => e.stream)],
        )),
      reset: async (tx) => void (await tx.query('TRUNCATE t_per_stream')),
    };
    await conn.store.appendToStream('host-a', pings('host-a', 3));
    await conn.store.appendToStream('host-b', [pinged('host-b', 1)]);
    const r = runner(perStream);
    expect(await r.catchUp()).toBe(4);
    const rows = await conn.pool.query<{ stream_id: string; n: string }>('SELECT stream_id, n FROM t_per_stream ORDER BY 1');
    expect(rows.rows).toEqual([
      { stream_id: 'host-a', n: '3' },
      { stream_id: 'host-b', n: '1' },
    ]);
    const rebuilt = await r.rebuild();
    expect(rebuilt.processed).toBe(4);
    expect(compareCheckpoints(rebuilt.checkpoint, START_CHECKPOINT)).toBeGreaterThan(0);
  });
});
