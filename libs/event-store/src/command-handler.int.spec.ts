// handleCommand against the real event store: expected versions as Postgres enforces them, with
// the store's group commit in the way (concurrent appends of one stream are refused and split).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@fleetvisor/contracts';
import { createTestDatabase, type TestDatabase } from '@fleetvisor/testing';
import { CommandConflictError, handleCommand } from './command-handler';
import { migrate } from './migrate';
import { openEventStore, type EventStoreConnection } from './event-store-connection';
import { pinged, testCatalog } from '../test/test-events';

let db: TestDatabase;
let conn: EventStoreConnection;
let seq = 0;
const fresh = (): string => `host-cmd${++seq}-${Date.now().toString(36)}`;

/** State: the last n pinged (a counter each command moves by one). */
const counter = { initialState: () => 0, evolve: (_s: number, e: EventEnvelope) => (e.data as { n: number }).n };
const ns = (es: readonly EventEnvelope[]) => es.map((e) => (e.data as { n: number }).n);

beforeAll(async () => {
  db = await createTestDatabase('fvcmd');
  await migrate(db.url);
  conn = await openEventStore(db.url, { catalog: testCatalog });
});

afterAll(async () => {
  await conn?.close();
  await db?.drop();
});

describe('handleCommand (Postgres)', () => {
  it('concurrent commands on one stream each decide on the state before them: no lost or doubled step', async () => {
    const stream = fresh();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => handleCommand(conn.store, stream, (n) => [pinged(stream, n + 1)], { ...counter, maxAttempts: 10 })),
    );
    const { events, currentVersion } = await conn.store.readStream(stream);
    expect(ns(events)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(currentVersion).toBe(6);
    expect(results.map((r) => r.state).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    // Only the first to append got through without a conflict.
    expect(results.some((r) => r.attempts > 1)).toBe(true);
  });

  it('gives up with CommandConflictError when another writer moves the stream before every append, and writes nothing of its own', async () => {
    const stream = fresh();
    let other = 100;
    const err = await handleCommand(
      conn.store,
      stream,
      async (n) => {
        // Another writer appends between this read and the append below.
        await conn.store.appendToStream(stream, [pinged(stream, ++other)]);
        return [pinged(stream, n + 1)];
      },
      { ...counter, maxAttempts: 3 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandConflictError);
    expect((err as CommandConflictError).lastConflict.actual).toBe(3);
    expect(ns((await conn.store.readStream(stream)).events)).toEqual([101, 102, 103]);
  });

  it('a command handled twice with the same event ids records them once and returns the state of the log', async () => {
    const stream = fresh();
    const e = pinged(stream, 1);
    await handleCommand(conn.store, stream, () => [e], counter);
    const again = await handleCommand(conn.store, stream, () => [e], { ...counter, known: { state: 0, version: 0 } });
    expect(again).toMatchObject({ appended: 0, reread: true, state: 1, version: 1 });
    expect((await conn.store.readStream(stream)).currentVersion).toBe(1);
  });
});
