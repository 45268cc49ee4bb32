// WorkerRegistryProjection on real Postgres: whatever the batches and whatever the projection knew
// before a batch (its index warm, cold, or stale because another runner moved the checkpoint), the
// tables equal the fold of each worker's stream (evolveWorker, the live registry's fold).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newEventFor,
  SEALER_STATES,
  ThreadPaused,
  ThreadResumed,
  ThreadStateChanged,
  WorkerDrainFinished,
  WorkerDrainStarted,
  WorkerExpired,
  WorkerRegistered,
  WorkerRemoved,
  WorkerReachable,
  WorkerReturned,
  WorkerUnreachable,
  WorkerUpdated,
  type EventEnvelope,
  type EventMetadata,
  type RecordedEvent,
} from '@fleetvisor/contracts';
import { openEventStore, ProjectionRunner, START_CHECKPOINT, type EventStoreConnection, type ProjectionTx } from '@fleetvisor/event-store';
import { createTestDatabase, expectEventually, type TestDatabase } from '@fleetvisor/testing';
import { foldWorker, transitionCausation, workerOfStream, type WorkerAggregate } from '../domain/worker-state';
import { loadWorkerAggregates, WorkerRegistryProjection } from './worker-projection';
import { MIGRATIONS } from '../migrations';

const dbs: TestDatabase[] = [];
const conns: EventStoreConnection[] = [];

async function freshLog(): Promise<EventStoreConnection> {
  const db = await createTestDatabase('wrproj');
  dbs.push(db);
  const conn = await openEventStore(db.url, { migrate: true, migrations: MIGRATIONS, poolSize: 4 });
  conns.push(conn);
  return conn;
}

afterAll(async () => {
  for (const c of conns) await c.close();
  for (const d of dbs) await d.drop();
});

/** Deterministic pseudo-random numbers (a failing seed can be replayed). */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

const BASE = Date.parse('2026-03-01T00:00:00.000Z');
// Index 40 is past the projection's 0..30 bit mask.
const INDEXES = [0, 1, 2, 3, 40];
const SECTORS = ['s-t01000-1', 's-t01000-2', 's-t01000-3'];

/** A log of every worker event type on a few workers, edge cases included (re-registration, removal, shrinking thread count, boot change, a worker never registered). */
function randomLog(seed: number, count: number): EventEnvelope[] {
  const r = prng(seed);
  const workers = ['w-a', 'w-b', 'w-c', 'w-d', 'ghost'];
  const seq = new Map<string, number>();
  const out: EventEnvelope[] = [];
  let t = 0;
  for (let k = 0; k < count; k++) {
    // Mostly forward in time, sometimes back (sector spans keep the earliest and latest).
    t += r(10) === 0 ? -5_000 : 1_000 + r(1_000);
    const at = { occurredAt: new Date(BASE + t) };
    const name = workers[r(workers.length)]!;
    const index = INDEXES[r(INDEXES.length)]!;
    const threads = [2, 4, 41][r(3)]!;
    const dest = `10.0.0.${r(3) + 1}:17890`;
    const pick = r(100);
    if (name !== 'ghost' && pick < 8) out.push(newEventFor(WorkerRegistered, { name, dest, version: `v1.${r(3)}`, threads }, {}, at));
    else if (pick < 12) out.push(newEventFor(WorkerUpdated, { name, dest, version: `v1.${r(3)}`, threads, changed: ['threads'] }, {}, at));
    else if (pick < 60) {
      const prev = SEALER_STATES[r(SEALER_STATES.length)]!;
      const next = r(4) === 0 ? prev : SEALER_STATES[r(SEALER_STATES.length)]!;
      let metadata: EventMetadata = {};
      if (r(5) !== 0) {
        const boot = `00000000-0000-4000-8000-00000000000${r(2)}`;
        const s = (seq.get(name + boot) ?? 0) + (r(6) === 0 ? -1 : 1 + r(3));
        seq.set(name + boot, Math.max(1, s));
        metadata = { causationId: transitionCausation(boot, Math.max(1, s)) };
      }
      out.push(
        newEventFor(
          ThreadStateChanged,
          {
            worker: name,
            index,
            plan: 'sealer',
            prev,
            next,
            ...(r(4) !== 0 ? { location: `/data/store${index}` } : {}),
            ...(r(3) !== 0 ? { sectorId: SECTORS[r(SECTORS.length)]! } : {}),
            ...(r(5) === 0 ? { failure: { level: 'temporary' as const, desc: `temporary: attempt ${k}` } } : {}),
          },
          metadata,
          at,
        ),
      );
    } else if (pick < 70) {
      const reason = (['manual', 'error', 'drain'] as const)[r(3)]!;
      out.push(newEventFor(ThreadPaused, { worker: name, index, reason, ...(reason === 'error' || r(2) === 0 ? { lastError: `permanent: ${k}` } : {}) }, {}, at));
    } else if (pick < 80) {
      out.push(newEventFor(ThreadResumed, { worker: name, index, ...(r(2) === 0 ? { state: SEALER_STATES[r(SEALER_STATES.length)]! } : {}) }, {}, at));
    } else if (pick < 84) out.push(newEventFor(WorkerExpired, { name, lastSeen: new Date(BASE + t - 60_000).toISOString(), expirationMs: 60_000 }, {}, at));
    else if (pick < 88) out.push(newEventFor(WorkerReturned, { name, lastSeen: new Date(BASE + t - 60_000).toISOString(), absentMs: 90_000 }, {}, at));
    else if (pick < 91) out.push(newEventFor(WorkerRemoved, { name }, {}, at));
    else if (pick < 96) out.push(newEventFor(WorkerDrainStarted, { name }, {}, at));
    else out.push(newEventFor(WorkerDrainFinished, { name, durationMs: 1_000 }, {}, at));
  }
  return out;
}

async function appendEach(conn: EventStoreConnection, events: readonly EventEnvelope[]): Promise<void> {
  for (const e of events) await conn.store.appendToStream(e.stream, [e]);
}

/**
 * The log once all `count` appended events can be read: readAll stops below the oldest transaction
 * still running anywhere on the server (other suites' too, on the shared Postgres), so right after
 * an append it may return fewer.
 */
async function readLog(conn: EventStoreConnection, count: number): Promise<RecordedEvent[]> {
  return expectEventually(async () => {
    const { events } = await conn.store.readAll(START_CHECKPOINT, 100_000);
    expect(events).toHaveLength(count);
    return events;
  });
}

/** The state each worker's stream folds to. */
function expectedWorkers(log: readonly RecordedEvent[]): Map<string, WorkerAggregate> {
  const byWorker = new Map<string, RecordedEvent[]>();
  for (const e of log) {
    const n = workerOfStream(e.stream);
    byWorker.set(n, [...(byWorker.get(n) ?? []), e]);
  }
  const out = new Map<string, WorkerAggregate>();
  for (const [n, es] of byWorker) {
    const agg = foldWorker(es);
    if (agg) out.set(n, agg);
  }
  return out;
}

/** Sector spans: every (sector, worker, thread) of a transition, its earliest and latest time. */
function expectedSectors(log: readonly RecordedEvent[]): string[] {
  const spans = new Map<string, { first: string; last: string }>();
  for (const e of log) {
    if (e.type !== 'ThreadStateChanged') continue;
    const d = e.data as { index: number; sectorId?: string };
    if (d.sectorId === undefined) continue;
    const key = `${d.sectorId} ${workerOfStream(e.stream)} ${d.index}`;
    const s = spans.get(key);
    if (!s) spans.set(key, { first: e.occurredAt, last: e.occurredAt });
    else {
      if (e.occurredAt < s.first) s.first = e.occurredAt;
      if (e.occurredAt > s.last) s.last = e.occurredAt;
    }
  }
  return [...spans].map(([k, s]) => `${k} ${s.first} ${s.last}`).sort();
}

/** Recorded state in a stable order; last-seen is also moved by heartbeats, not only folded. */
function comparable(m: ReadonlyMap<string, WorkerAggregate>) {
  return [...m.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, a]) => [n, { ...a.worker, lastSeen: '' }, [...a.threads.values()].sort((x, y) => x.index - y.index)]);
}

async function tables(conn: EventStoreConnection) {
  const sectors = await conn.pool.query<{ s: string }>(
    `SELECT sector_id || ' ' || worker || ' ' || idx || ' ' || to_char(first_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
       || ' ' || to_char(last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS s FROM fv_proj_worker_sectors`,
  );
  return { workers: comparable(await loadWorkerAggregates(conn.pool)), sectors: sectors.rows.map((x) => x.s).sort() };
}

function expected(log: readonly RecordedEvent[]) {
  return { workers: comparable(expectedWorkers(log)), sectors: expectedSectors(log) };
}

async function inTx(conn: EventStoreConnection, fn: (tx: ProjectionTx) => Promise<void>): Promise<void> {
  const c = await conn.pool.connect();
  try {
    await c.query('BEGIN');
    await fn(c);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK');
    throw e;
  } finally {
    c.release();
  }
}

describe('WorkerRegistryProjection', () => {
  let conn: EventStoreConnection;
  beforeAll(async () => {
    conn = await freshLog();
  });

  it('a batch of every event type gives the same rows applied with the index warm and read anew from the tables', async () => {
    const at = (s: number) => ({ occurredAt: new Date(BASE + s * 1_000) });
    const boot = '00000000-0000-4000-8000-000000000001';
    const first = [
      newEventFor(WorkerRegistered, { name: 'w-1', dest: '10.0.0.1:1', version: 'v1', threads: 4 }, {}, at(1)),
      newEventFor(WorkerRegistered, { name: 'w-2', dest: '10.0.0.2:1', version: 'v1', threads: 2 }, {}, at(1)),
      ...[0, 1, 2, 3, 40].map((index) =>
        newEventFor(
          ThreadStateChanged,
          { worker: 'w-1', index, plan: 'sealer', prev: 'Empty', next: 'Allocated', location: `/s${index}`, sectorId: `s-t01000-${index}`, failure: { level: 'temporary', desc: 'temporary: x' } },
          { causationId: transitionCausation(boot, index + 1) },
          at(2),
        ),
      ),
      newEventFor(ThreadStateChanged, { worker: 'w-2', index: 0, plan: 'sealer', prev: 'Empty', next: 'Allocated' }, {}, at(2)),
      newEventFor(ThreadPaused, { worker: 'w-1', index: 2, reason: 'error', lastError: 'permanent: disk' }, {}, at(3)),
    ];
    const second = [
      // Same-state note: keeps the stored error; a failure sets one; progress clears it.
      newEventFor(ThreadStateChanged, { worker: 'w-1', index: 0, plan: 'sealer', prev: 'Allocated', next: 'Allocated' }, { causationId: transitionCausation(boot, 50) }, at(10)),
      newEventFor(ThreadStateChanged, { worker: 'w-1', index: 1, plan: 'sealer', prev: 'Allocated', next: 'PieceAdded', sectorId: 's-t01000-1' }, { causationId: transitionCausation(boot, 7) }, at(11)),
      // The paused thread moves on: still paused, with its pause time and reason as stored.
      newEventFor(ThreadStateChanged, { worker: 'w-1', index: 2, plan: 'sealer', prev: 'Allocated', next: 'PieceAdded', sectorId: 's-t01000-9' }, {}, at(12)),
      newEventFor(ThreadPaused, { worker: 'w-1', index: 3, reason: 'manual' }, {}, at(13)),
      newEventFor(ThreadResumed, { worker: 'w-1', index: 40, state: 'Empty' }, {}, at(14)),
      newEventFor(ThreadPaused, { worker: 'w-1', index: 9, reason: 'manual' }, {}, at(14)),
      newEventFor(WorkerDrainStarted, { name: 'w-1' }, {}, at(15)),
      newEventFor(WorkerDrainFinished, { name: 'w-1', durationMs: 5 }, {}, at(16)),
      newEventFor(WorkerExpired, { name: 'w-1', lastSeen: new Date(BASE).toISOString(), expirationMs: 1 }, {}, at(17)),
      newEventFor(WorkerReturned, { name: 'w-1', lastSeen: new Date(BASE).toISOString(), absentMs: 1 }, {}, at(18)),
      // Fewer threads: 3 and 40 go, with their rows.
      newEventFor(WorkerUpdated, { name: 'w-1', dest: '10.0.0.9:1', version: 'v2', threads: 3, changed: ['dest', 'version', 'threads'] }, {}, at(19)),
      newEventFor(ThreadStateChanged, { worker: 'w-1', index: 0, plan: 'sealer', prev: 'Allocated', next: 'PieceAdded' }, { causationId: transitionCausation('00000000-0000-4000-8000-000000000002', 1) }, at(20)),
      // Removed and registered again in the same batch: nothing of the old rows stays.
      newEventFor(WorkerRemoved, { name: 'w-2' }, {}, at(21)),
      newEventFor(WorkerRegistered, { name: 'w-2', dest: '10.0.0.2:1', version: 'v3', threads: 2 }, {}, at(22)),
      newEventFor(ThreadStateChanged, { worker: 'w-2', index: 1, plan: 'sealer', prev: 'Empty', next: 'Allocated' }, {}, at(23)),
      // Registered again without a removal: keeps its threads, registration time and seq.
      newEventFor(WorkerRegistered, { name: 'w-1', dest: '10.0.0.9:1', version: 'v2', threads: 3 }, {}, at(24)),
      newEventFor(ThreadStateChanged, { worker: 'ghost', index: 0, plan: 'sealer', prev: 'Empty', next: 'Allocated', sectorId: 's-t01000-7' }, {}, at(25)),
      // The agent of w-2 cannot reach its worker, then can again; w-1's cannot (and stays so).
      newEventFor(WorkerUnreachable, { name: 'w-2', error: 'ECONNREFUSED' }, {}, at(26)),
      newEventFor(WorkerReachable, { name: 'w-2', unreachableMs: 1_000 }, {}, at(27)),
      newEventFor(WorkerUnreachable, { name: 'w-1', error: 'timeout' }, {}, at(28)),
    ];
    await appendEach(conn, [...first, ...second]);
    const log = await readLog(conn, first.length + second.length);
    const batch1 = log.slice(0, first.length);
    const batch2 = log.slice(first.length);

    // Warm: the instance that wrote batch 1 applies batch 2 from its index, reading no rows.
    const warm = new WorkerRegistryProjection();
    await inTx(conn, (tx) => warm.reset(tx));
    await inTx(conn, (tx) => warm.applyBatch(batch1, tx));
    await inTx(conn, (tx) => warm.applyBatch(batch2, tx));
    const fromWarm = await tables(conn);

    // Cold: a new instance (a restarted registry) applies batch 2 over the same tables.
    const writer = new WorkerRegistryProjection();
    await inTx(conn, (tx) => writer.reset(tx));
    await inTx(conn, (tx) => writer.applyBatch(batch1, tx));
    const cold = new WorkerRegistryProjection();
    await inTx(conn, (tx) => cold.applyBatch(batch2, tx));
    expect(cold.indexedWorkers).toBe(3);
    const fromCold = await tables(conn);

    expect(fromWarm).toEqual(expected(log));
    expect(fromCold).toEqual(expected(log));
    // The cases above did happen (the fold is not trivially empty).
    const w1 = expectedWorkers(log).get('w-1')!;
    expect([...w1.threads.keys()].sort()).toEqual([0, 1, 2]);
    expect(w1.threads.get(2)).toMatchObject({ paused: true, pauseReason: 'error', lastError: undefined, state: 'PieceAdded' });
    expect(w1.worker).toMatchObject({ bootId: '00000000-0000-4000-8000-000000000002', acceptedSeq: 1, dest: '10.0.0.9:1', version: 'v2', registeredAt: batch1[0]!.occurredAt });
    expect([...expectedWorkers(log).get('w-2')!.threads.keys()]).toEqual([1]);
    expect(w1.worker).toMatchObject({ unreachable: 'timeout', unreachableSince: new Date(BASE + 28_000).toISOString() });
    expect(expectedWorkers(log).get('w-2')!.worker).toMatchObject({ unreachable: undefined, unreachableSince: undefined });
  });

  it.each([1, 2, 3])('random log %i: rebuilt, and followed by runners with warm, cold and stale indexes, the tables equal the fold', async (seed) => {
    const log = await freshLog();
    const events = randomLog(seed, 400);
    const r = prng(seed * 7919);
    // Two long-lived projections and new ones, taking turns at following the log as it grows: an
    // instance whose checkpoint another one moved must not trust what it knew.
    const longLived = [new WorkerRegistryProjection(), new WorkerRegistryProjection()];
    for (let k = 0; k < events.length; ) {
      const n = 1 + r(40);
      await appendEach(log, events.slice(k, k + n));
      k += n;
      // The runner below follows what readAll shows: wait until that is everything appended.
      await readLog(log, Math.min(k, events.length));
      const turn = r(3);
      const projection = turn === 2 ? new WorkerRegistryProjection() : longLived[turn]!;
      await new ProjectionRunner(log.pool, log.store, projection, { batchSize: 1 + r(30) }).catchUp();
    }
    const recorded = await readLog(log, events.length);
    const want = expected(recorded);
    expect(want.workers.length).toBeGreaterThan(1);
    expect(await tables(log)).toEqual(want);

    for (const batchSize of [7, 10_000]) {
      await log.rebuild(new WorkerRegistryProjection(), undefined, { batchSize });
      expect(await tables(log)).toEqual(want);
    }
  });
});
