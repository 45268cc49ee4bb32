import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ContractViolationError, uuidv7 } from '@fleetvisor/contracts';
import { createTestDatabase, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { compareCheckpoints } from './checkpoint';
import { migrate } from './migrate';
import { openEventStore, type EventStoreConnection } from './event-store-connection';
import { PostgresEventStore, type AppendedNotice } from './postgres-event-store';
import { DuplicateEventIdError, WrongExpectedVersionError } from './errors';
import { START_CHECKPOINT } from './types';
import { pinged, pings, testCatalog } from '../test/test-events';

let db: TestDatabase;
let conn: EventStoreConnection;
let store: PostgresEventStore;
let seq = 0;
const fresh = (area = 'host'): string => `${area}-g${++seq}-${Date.now().toString(36)}`;

beforeAll(async () => {
  db = await createTestDatabase('fvgrp');
  await migrate(db.url);
  conn = await openEventStore(db.url, { catalog: testCatalog, poolSize: 12 });
  store = conn.store;
});

afterAll(async () => {
  await conn?.close();
  await db?.drop();
});

async function countEvents(streams: string[]): Promise<number> {
  const r = await conn.pool.query<{ n: string }>('SELECT count(*) AS n FROM fv_events WHERE stream_id = ANY ($1)', [streams]);
  return Number(r.rows[0]!.n);
}

describe('appendToStreams (group commit)', () => {
  it('appends to many streams in one round trip and one transaction, each numbered from its own version', async () => {
    const [a, b, c] = [fresh(), fresh(), fresh()];
    await store.appendToStream(b, pings(b, 3));
    const spy = vi.spyOn(conn.pool, 'query');
    let results;
    try {
      // Not in stream order on purpose: results come back in the order given.
      results = await store.appendToStreams([
        { stream: c, events: pings(c, 2) },
        { stream: a, events: pings(a, 1), expectedVersion: 'no_stream' },
        { stream: b, events: pings(b, 2, 4), expectedVersion: 3 },
      ]);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    expect(results.map((r) => [r.nextExpectedVersion, r.appended])).toEqual([
      [2, 2],
      [1, 1],
      [5, 2],
    ]);
    const readB = await store.readStream(b);
    expect(readB.events.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4, 5]);
    expect(readB.events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5]);
    expect(readB.events[4]!.checkpoint).toBe(results[2]!.checkpoint);
    // One transaction: every event of the call carries the same transaction id.
    const all = [...(await store.readStream(a)).events, ...readB.events.slice(3), ...(await store.readStream(c)).events];
    expect(new Set(all.map((e) => e.checkpoint.split(':')[0])).size).toBe(1);
  });

  it('is idempotent by event id: a retried group appends nothing twice', async () => {
    const [a, b] = [fresh(), fresh()];
    const batches = [
      { stream: a, events: pings(a, 2) },
      { stream: b, events: pings(b, 3) },
    ];
    await store.appendToStreams(batches);
    const again = await store.appendToStreams(batches);
    expect(again).toEqual([
      { nextExpectedVersion: 2, appended: 0 },
      { nextExpectedVersion: 3, appended: 0 },
    ]);
    // Partly stored: only the new events are written, after the stored ones.
    const extra = pinged(b, 4);
    const partly = await store.appendToStreams([{ stream: b, events: [...batches[1]!.events, extra] }]);
    expect(partly[0]).toMatchObject({ nextExpectedVersion: 4, appended: 1 });
    expect(await countEvents([a, b])).toBe(6);
  });

  it('is all or nothing: a wrong expected version in one batch writes nothing of any batch and names that stream', async () => {
    const [a, b, c] = [fresh(), fresh(), fresh()];
    await store.appendToStream(b, pings(b, 2));
    const err = await store
      .appendToStreams([
        { stream: a, events: pings(a, 2) },
        { stream: b, events: [pinged(b, 3)], expectedVersion: 1 },
        { stream: c, events: pings(c, 1) },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongExpectedVersionError);
    expect(err).toMatchObject({ stream: b, expected: 1, actual: 2 });
    expect(await countEvents([a, b, c])).toBe(2);
    expect(await store.streamVersion(a)).toBe(0);
    expect(await store.streamVersion(b)).toBe(2);
    expect(await store.streamVersion(c)).toBe(0);
  });

  it('refuses an event id stored in another stream with DuplicateEventIdError naming the batch stream, writing nothing', async () => {
    const [a, b, other] = [fresh(), fresh(), fresh()];
    const id = uuidv7();
    await store.appendToStream(other, [pinged(other, 1, id)]);
    const err = await store
      .appendToStreams([
        { stream: a, events: pings(a, 1) },
        { stream: b, events: [pinged(b, 1, id)] },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateEventIdError);
    expect((err as DuplicateEventIdError).stream).toBe(b);
    expect((err as Error).message).toContain(other);
    expect(await countEvents([a, b])).toBe(0);
  });

  it('validates every batch before sending anything (catalog, stream, duplicates)', async () => {
    const [a, b] = [fresh(), fresh()];
    const spy = vi.spyOn(conn.pool, 'query');
    try {
      await expect(store.appendToStreams([{ stream: a, events: [pinged(b, 1)] }])).rejects.toThrow(/belongs to stream/);
      await expect(
        store.appendToStreams([
          { stream: a, events: pings(a, 1) },
          { stream: a, events: pings(a, 1) },
        ]),
      ).rejects.toThrow(ContractViolationError);
      const shared = uuidv7();
      await expect(
        store.appendToStreams([
          { stream: a, events: [pinged(a, 1, shared)] },
          { stream: b, events: [pinged(b, 1, shared)] },
        ]),
      ).rejects.toThrow(/appears in two batches/);
      await expect(
        store.appendToStreams([{ stream: a, events: [{ ...pinged(a, 1), data: { n: -1 } }] }]),
      ).rejects.toThrow(ContractViolationError);
      expect(await store.appendToStreams([])).toEqual([]);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('notifies listeners once per stream that got events, after the commit', async () => {
    const [a, b, c] = [fresh(), fresh(), fresh()];
    const storedC = pings(c, 1);
    await store.appendToStream(c, storedC);
    const heard: AppendedNotice[] = [];
    const off = store.onAppended((n) => heard.push(n));
    try {
      const res = await store.appendToStreams([
        { stream: b, events: pings(b, 2) },
        { stream: a, events: pings(a, 1) },
        { stream: c, events: storedC },
      ]);
      expect(heard.map((n) => [n.stream, n.appended, n.nextExpectedVersion]).sort()).toEqual(
        [
          [a, 1, 1],
          [b, 2, 2],
        ].sort(),
      );
      expect(heard.find((n) => n.stream === b)!.checkpoint).toBe(res[0]!.checkpoint);
    } finally {
      off();
    }
  });

  it('concurrent group commits over overlapping streams keep every stream ordered and gap-free in readAll', async () => {
    const streams = Array.from({ length: 6 }, () => fresh());
    const rounds = 15;
    const writers = 6;
    const start = await store.headCheckpoint();
    // Each writer appends to a different (overlapping, differently ordered) subset of streams,
    // many times at once; each event says which writer and round wrote it.
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let r = 0; r < rounds; r++) {
          const subset = streams.filter((_, i) => (i + w + r) % 3 !== 0);
          if (w % 2 === 1) subset.reverse();
          await store.appendToStreams(subset.map((s) => ({ stream: s, events: [pinged(s, w * 1000 + r), pinged(s, w * 1000 + r)] })));
        }
      }),
    );
    let expectedTotal = 0;
    for (let w = 0; w < writers; w++) for (let r = 0; r < rounds; r++) expectedTotal += streams.filter((_, i) => (i + w + r) % 3 !== 0).length * 2;

    // readAll from before the writes up to the last commit (another transaction of the shared
    // server may hold the readable end back for a moment): every event once, each stream's
    // versions 1..n in order.
    const seen = new Map<string, number[]>(streams.map((s) => [s, []]));
    const end = await store.lastCommittedCheckpoint();
    let after = start;
    await waitFor(
      async () => {
        const { events, checkpoint } = await store.readAll(after, 100);
        for (const e of events) seen.get(e.stream)?.push(e.streamVersion);
        after = checkpoint;
        return compareCheckpoints(after, end) >= 0;
      },
      { intervalMs: 1 },
    );
    let total = 0;
    for (const s of streams) {
      const versions = seen.get(s)!;
      total += versions.length;
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
      expect(await store.streamVersion(s)).toBe(versions.length);
      // The two events of one writer's round stay next to each other in the stream.
      const { events } = await store.readStream(s);
      for (let i = 0; i < events.length; i += 2) expect((events[i]!.data as { n: number }).n).toBe((events[i + 1]!.data as { n: number }).n);
    }
    expect(total).toBe(expectedTotal);
    expect(after).not.toBe(START_CHECKPOINT);
  });
});

describe('appendToStream group commit (concurrent appends share a transaction)', () => {
  /** A store whose one slot is held by a first append, so that the next ones wait and group. */
  function groupingStore(): PostgresEventStore {
    return new PostgresEventStore(conn.pool, { catalog: testCatalog, groupCommit: { maxInFlight: 1 } });
  }

  it('appends made while another is in flight go as one transaction, each with its own result', async () => {
    const s = groupingStore();
    const streams = Array.from({ length: 6 }, () => fresh());
    const results = await Promise.all(streams.map((st, i) => s.appendToStream(st, pings(st, i + 1), { expectedVersion: 'no_stream' })));
    expect(results.map((r) => [r.nextExpectedVersion, r.appended])).toEqual(streams.map((_, i) => [i + 1, i + 1]));
    // The first went alone; the five that waited went together.
    expect(s.groupCommitStats).toMatchObject({ appends: 6, groups: 1, grouped: 5, split: 0 });
    const grouped = await Promise.all(streams.slice(1).map((st) => s.readStream(st)));
    const xids = new Set(grouped.flatMap((r) => r.events.map((e) => e.checkpoint.split(':')[0])));
    expect(xids.size).toBe(1);
    for (let i = 1; i < streams.length; i++) expect(grouped[i - 1]!.events.at(-1)!.checkpoint).toBe(results[i]!.checkpoint);
  });

  it('a refused append fails alone: the others of its group are written', async () => {
    const s = groupingStore();
    const [a, b, c, d] = [fresh(), fresh(), fresh(), fresh()];
    await store.appendToStream(c, pings(c, 2));
    const outcomes = await Promise.allSettled([
      s.appendToStream(a, pings(a, 1)),
      s.appendToStream(b, pings(b, 2)),
      s.appendToStream(c, [pinged(c, 3)], { expectedVersion: 1 }),
      s.appendToStream(d, pings(d, 1)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ stream: c, expected: 1, actual: 2 });
    expect(s.groupCommitStats!.split).toBe(1);
    expect(await countEvents([a, b, c, d])).toBe(1 + 2 + 2 + 1);
  });

  it('a retried append in a group appends nothing twice, and an id of another stream is refused alone', async () => {
    const s = groupingStore();
    const [a, b, other] = [fresh(), fresh(), fresh()];
    const first = pings(a, 2);
    await store.appendToStream(a, first);
    const id = uuidv7();
    await store.appendToStream(other, [pinged(other, 1, id)]);
    const [hold, retried, stolen] = await Promise.allSettled([
      s.appendToStream(fresh(), pings('x', 0)),
      s.appendToStream(a, first),
      s.appendToStream(b, [pinged(b, 1, id)]),
    ]);
    expect(hold.status).toBe('fulfilled');
    expect(retried).toEqual({ status: 'fulfilled', value: { nextExpectedVersion: 2, appended: 0 } });
    expect((stolen as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
    expect(await countEvents([a, b])).toBe(2);
  });

  it('a group holding a retried append goes the careful way whole, in one transaction, not split', async () => {
    const s = groupingStore();
    const [a, b, c] = [fresh(), fresh(), fresh()];
    const first = pings(a, 2);
    await store.appendToStream(a, first);
    const [, retried, fresher, third] = await Promise.all([
      s.appendToStream(fresh(), pings('w', 0)),
      s.appendToStream(a, first),
      s.appendToStream(b, pings(b, 2), { expectedVersion: 'no_stream' }),
      s.appendToStream(c, pings(c, 1)),
    ]);
    expect(retried).toEqual({ nextExpectedVersion: 2, appended: 0 });
    expect([fresher!.appended, third!.appended]).toEqual([2, 1]);
    expect(s.groupCommitStats).toMatchObject({ groups: 1, grouped: 3, split: 0 });
    const written = await Promise.all([b, c].map((st) => s.readStream(st)));
    expect(new Set(written.flatMap((r) => r.events.map((e) => e.checkpoint.split(':')[0]))).size).toBe(1);
  });

  it('two appends to one stream are never grouped: the second sees the first (expected versions in order)', async () => {
    const s = groupingStore();
    const [a, b] = [fresh(), fresh()];
    const results = await Promise.all([
      s.appendToStream(b, pings(b, 1)),
      s.appendToStream(a, pings(a, 2), { expectedVersion: 'no_stream' }),
      s.appendToStream(a, pings(a, 1, 3), { expectedVersion: 2 }),
    ]);
    expect(results.map((r) => r.nextExpectedVersion)).toEqual([1, 2, 3]);
    expect((await s.readStream(a)).events.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3]);
  });

  it('an empty append in a group only checks the expected version and creates no stream', async () => {
    const s = groupingStore();
    const [a, empty] = [fresh(), fresh()];
    const [, , r] = await Promise.all([s.appendToStream(fresh(), pings('y', 0)), s.appendToStream(a, pings(a, 1)), s.appendToStream(empty, [], { expectedVersion: 'no_stream' })]);
    expect(r).toEqual({ nextExpectedVersion: 0, appended: 0 });
    expect(await store.streamVersion(empty)).toBe(0);
    const refused = await Promise.allSettled([s.appendToStream(fresh(), pings('z', 0)), s.appendToStream(empty, [], { expectedVersion: 'stream_exists' })]);
    expect((refused[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersionError);
  });

  it('appends of smallAppendEvents events or more are sent at once, never grouped', async () => {
    const s = new PostgresEventStore(conn.pool, { catalog: testCatalog, groupCommit: { maxInFlight: 1, smallAppendEvents: 3 } });
    const streams = [fresh(), fresh(), fresh(), fresh()];
    const results = await Promise.all(streams.map((st, i) => s.appendToStream(st, pings(st, i % 2 === 0 ? 1 : 3))));
    expect(results.map((r) => r.appended)).toEqual([1, 3, 1, 3]);
    // Only the two single-event appends went through the combiner (the second waited for the first).
    expect(s.groupCommitStats).toMatchObject({ appends: 2, groups: 0 });
    expect(new Set(results.map((r) => r.checkpoint!.split(':')[0])).size).toBe(4);
  });

  it('with group commit off every append is its own transaction', async () => {
    const s = new PostgresEventStore(conn.pool, { catalog: testCatalog, groupCommit: false });
    const streams = [fresh(), fresh(), fresh()];
    const results = await Promise.all(streams.map((st) => s.appendToStream(st, pings(st, 1))));
    expect(s.groupCommitStats).toBeUndefined();
    expect(new Set(results.map((r) => r.checkpoint!.split(':')[0])).size).toBe(3);
  });
});

describe('fast append functions check the counts they are given', () => {
  it('fv_append_fast and fv_append_group refuse a count that does not match the events, writing nothing', async () => {
    const [a, b] = [fresh(), fresh()];
    const two = JSON.stringify(pings(a, 2));
    for (const count of [1, 3]) {
      const err = await conn.pool.query('SELECT * FROM fv_append_fast($1, $2, $3::json, $4)', [a, 'any', two, count]).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: '22023' });
      expect((err as Error).message).toContain(`2 events given, the count says ${count}`);
    }
    const group = JSON.stringify([
      { stream: a, expected: 'any', count: 2, events: pings(a, 2) },
      { stream: b, expected: 'any', count: 5, events: pings(b, 1) },
    ]);
    const err = await conn.pool.query('SELECT * FROM fv_append_group($1::json)', [group]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: '22023' });
    expect(await countEvents([a, b])).toBe(0);
    expect(await store.streamVersion(a)).toBe(0);
  });

  it('an id stored already sends appendToStream the careful way: a retry is a no-op, an id of another stream is refused', async () => {
    const s = new PostgresEventStore(conn.pool, { catalog: testCatalog, groupCommit: false });
    const [a, b] = [fresh(), fresh()];
    const events = pings(a, 3);
    await s.appendToStream(a, events);
    const spy = vi.spyOn(conn.pool, 'query');
    try {
      await expect(s.appendToStream(a, events)).resolves.toEqual({ nextExpectedVersion: 3, appended: 0 });
      // The fast call met the stored ids, the careful one answered.
      expect(spy.mock.calls.map((c) => (c[0] as { name?: string }).name)).toEqual(['fv_append_fast', 'fv_append']);
    } finally {
      spy.mockRestore();
    }
    await expect(s.appendToStream(b, [pinged(b, 1, events[0]!.id)])).rejects.toBeInstanceOf(DuplicateEventIdError);
    expect(await countEvents([a, b])).toBe(3);
  });
});

describe('stream ids and types the log accepts', () => {
  it('refuses a stream id or type JSON would have to escape (readAll copies them into its JSON text as they are)', async () => {
    for (const [stream, type] of [
      ['host-quote"d', 'Pinged'],
      ['host-back\\slash', 'Pinged'],
      ['host-tab\there', 'Pinged'],
      ['host-ok', 'Ping"ed'],
    ] as const) {
      const event = { ...pinged('host-x', 1), stream, type };
      const err = await conn.pool.query('SELECT * FROM fv_append_fast($1, $2, $3::json, $4)', [stream, 'any', JSON.stringify([event]), 1]).catch((e: unknown) => e);
      expect(err, `${stream} ${type}`).toMatchObject({ code: '23514', constraint: 'fv_events_names_json_safe' });
    }
    // What the contracts allow is accepted and read back intact.
    const ok = `host-a.b_c:d/e@f-${seq}`;
    await store.appendToStream(ok, [pinged(ok, 1)]);
    // readAll shows it once no older transaction of the server is open (other suites run alongside).
    let types: string[] = [];
    await waitFor(async () => {
      const all = [];
      for (let after = START_CHECKPOINT; ; ) {
        const r = await store.readAll(after, 500);
        all.push(...r.events);
        if (r.events.length < 500) break;
        after = r.checkpoint;
      }
      types = all.filter((e) => e.stream === ok).map((e) => e.type);
      return types.length > 0;
    });
    expect(types).toEqual(['Pinged']);
  });
});
