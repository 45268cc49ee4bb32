// The registry against real Postgres and NATS, started as the service starts (its Nest module on
// the Fleetvisor transport), with agent stand-ins on the bus (the real agent processes are
// exercised in worker-registry.e2e.spec.ts).
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { INestMicroservice } from '@nestjs/common';
import {
  WorkerDrain,
  WorkerErrors,
  WorkerHistory,
  WorkerInfo,
  WorkerList,
  WorkerPause,
  WorkerRemove,
  WorkerResume,
  newEventFor,
  ThreadPaused,
  WorkerRegistered,
  WorkerReportCommand,
  createSubjects,
  type RecordedEvent,
  type ThreadInfo,
} from '@fleetvisor/contracts';
import { fleetvisorVersion } from '@fleetvisor/platform';
import { commandTrustOf, createFleetMicroservice, DeadLetterHeaders, deadLetterStreamName, FleetCore } from '@fleetvisor/messaging';
import { sharedNatsUrl, createTestDatabase, expectEventually, testBusNames, testCoreConfig, testTrustConfig, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import type { WorkerRegistrySettings } from './config';
import type { WorkerAggregate } from './domain/worker-state';
import { loadWorkerAggregates, WorkerRegistryProjection } from './projection/worker-projection';
import { LiveWorkers } from './registry/live-workers';
import { ReportIntake } from './registry/report-intake';
import { WorkerRegistry } from './registry/worker-registry';
import { WorkerRegistryModule } from './worker-registry.module';
import { AgentStandIn } from '../test/agent-stand-in';
import { sourceScreenThreadScript } from '../test/source-screen-thread';

const SETTINGS: WorkerRegistrySettings = {
  expirationMs: 60_000,
  expiryCheckIntervalMs: 50,
  lastSeenFlushIntervalMs: 100,
  agentTimeoutMs: 1_000,
  poolSize: 6,
  statsLogIntervalMs: 0,
  heapGrowingPercent: 20,
  reportScreenThread: true,
  hostExpirationMs: 120_000,
};

let db: TestDatabase;
const bus = testBusNames();
let core: FleetCore;
let app: INestMicroservice;
let clockOffsetMs = 0;
const clock = () => Date.now() + clockOffsetMs;
const agents: AgentStandIn[] = [];

/** The registry service as `worker-registry run` makes it, not yet listening (listen() loads it and serves). */
function registryApp(): Promise<INestMicroservice> {
  return createFleetMicroservice(WorkerRegistryModule.forRoot({ core: testCoreConfig(db.url, bus), registry: SETTINGS, trust: testTrustConfig('service', 'worker-registry') }, { relay: false, clock, screenThreadScript: sourceScreenThreadScript }), {
    serviceName: 'worker-registry',
    nest: { logger: false },
  });
}

async function startRegistry(): Promise<INestMicroservice> {
  const a = await registryApp();
  await a.listen();
  return a;
}

const registry = (): WorkerRegistry => app.get(WorkerRegistry);

async function agent(name: string, threads: number, dest = `10.0.0.${agents.length + 1}:17890`): Promise<AgentStandIn> {
  const a = new AgentStandIn(core.commands, name, dest, threads);
  await a.serve();
  agents.push(a);
  return a;
}

async function events(worker: string): Promise<RecordedEvent[]> {
  return (await core.store.readStream(`worker-${worker}`)).events;
}

const types = (es: readonly RecordedEvent[]) => es.map((e) => e.type);

async function ask<R>(p: Promise<{ ok: true; result?: R } | { ok: false; error: { code: string; message: string } }>): Promise<R> {
  const reply = await p;
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as R;
}

/** The parts of `worker info` that come from the agent's truth. */
function truth(threads: readonly ThreadInfo[]) {
  return threads.map((t) => ({ index: t.index, plan: t.plan, state: t.state, sectorId: t.sectorId, location: t.location, threadState: t.threadState, lastError: t.lastError }));
}

/** Recorded state in a stable order; last-seen is a heartbeat, not folded from events. */
function comparable(m: ReadonlyMap<string, WorkerAggregate>) {
  return [...m.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, a]) => [n, { ...a.worker, lastSeen: '' }, [...a.threads.values()].sort((x, y) => x.index - y.index)]);
}

beforeAll(async () => {
  db = await createTestDatabase('wreg');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  // The test's bus signs as operator "test-operator" (what the CLI does) and verifies, for the agent stand-ins, what the registry signs.
  core = await FleetCore.open({
    serviceName: 'worker-registry',
    config: testCoreConfig(db.url, bus),
    poolSize: 8,
    commandTrust: commandTrustOf(testTrustConfig('admin', 'test-operator'), 'test', { verifies: true, signs: true }),
  });
  app = await startRegistry();
});

afterAll(async () => {
  for (const a of agents) await a.stopServing();
  await app?.close();
  if (core) {
    for (const s of [bus.eventStreamName, deadLetterStreamName(bus.eventStreamName)]) await core.jsm.streams.delete(s).catch(() => undefined);
    await core.close();
  }
  await db?.drop();
});

describe('worker-registry: reports', () => {
  it('registers workers, records transitions, and list/info match what the agents report', async () => {
    // This suite runs the registry with the report screen thread (e2e runs it without): it started.
    expect(app.get(ReportIntake).screensOnThread).toBe(true);
    const a = await agent('w-a', 4);
    const b = await agent('w-b', 2);
    a.move(0, 'Allocated', { sectorId: 's-t01000-1' });
    a.move(0, 'DealsAcquired');
    a.move(1, 'Allocated', { sectorId: 's-t01000-2' });
    a.threads[2]!.paused = true; // paused at the agent before the registry knew it
    const r1 = await a.report();
    expect(r1).toMatchObject({ ok: true, result: { acceptedSeq: 3 } });
    expect(await b.report()).toMatchObject({ ok: true, result: { appended: 3, acceptedSeq: 0 } });

    const evs = await events('w-a');
    expect(types(evs)).toEqual([
      'WorkerRegistered',
      'ThreadStateChanged',
      'ThreadStateChanged',
      'ThreadStateChanged',
      'ThreadStateChanged', // thread 2, first seen
      'ThreadPaused', // ... and already paused
      'ThreadStateChanged', // thread 3
    ]);
    expect(evs[1]!.data).toMatchObject({ worker: 'w-a', index: 0, prev: 'Empty', next: 'Allocated', sectorId: 's-t01000-1' });
    expect(evs[5]!.data).toMatchObject({ index: 2, reason: 'manual', actor: 'worker-agent:w-a' });

    const list = await ask(core.commands.request(WorkerList, {}));
    expect(list.workers.map((w) => [w.name, w.dest, w.version, w.threads, w.empty, w.paused, w.running, w.waiting, w.errors, w.expired])).toEqual([
      ['w-a', '10.0.0.1:17890', '1.2.0', 4, 2, 1, 2, 0, 0, false],
      ['w-b', '10.0.0.2:17890', '1.2.0', 2, 2, 0, 0, 0, 0, false],
    ]);
    const info = await ask(core.commands.request(WorkerInfo, { worker: 'w-a' }));
    expect(truth(info.threads)).toEqual(truth(a.threadInfos()));
    // By address too.
    expect((await ask(core.commands.request(WorkerInfo, { worker: '10.0.0.2:17890' }))).worker.name).toBe('w-b');
  });

  it('a report that changes nothing appends nothing and only refreshes last-seen', async () => {
    const a = agents[0]!;
    const before = (await events('w-a')).length;
    const seen0 = (await ask(core.commands.request(WorkerList, {}))).workers[0]!.lastPing;
    await new Promise((r) => setTimeout(r, 5)); // let the clock move a few ms so lastPing can differ
    expect(await a.report()).toEqual({ ok: true, result: { appended: 0, acceptedSeq: 3 } });
    expect((await events('w-a')).length).toBe(before);
    const seen1 = (await ask(core.commands.request(WorkerList, {}))).workers[0]!.lastPing;
    expect(Date.parse(seen1)).toBeGreaterThan(Date.parse(seen0));
    // ... and it reaches the table in the next batched flush, not as an event.
    await expectEventually(async () => {
      const r = await core.pool.query<{ last_seen: Date }>("SELECT last_seen FROM fv_proj_workers WHERE name = 'w-a'");
      expect(r.rows[0]!.last_seen.getTime()).toBe(Date.parse(seen1));
    });
  });

  it('transitions re-sent after a lost reply are recorded once (deterministic ids)', async () => {
    const a = agents[0]!;
    a.move(1, 'PieceAdded');
    const report = a.buildReport();
    expect(await a.report(report)).toMatchObject({ ok: true, result: { appended: 1, acceptedSeq: 4 } });
    // The same report again, as if the reply had been lost, and a new report still carrying seq 4.
    expect(await a.report({ ...report })).toMatchObject({ ok: true, result: { appended: 0, acceptedSeq: 4 } });
    const again = { ...a.buildReport(), transitions: report.transitions };
    expect(await a.report(again)).toMatchObject({ ok: true, result: { appended: 0, acceptedSeq: 4 } });
    expect((await events('w-a')).filter((e) => e.type === 'ThreadStateChanged' && (e.data as { next: string }).next === 'PieceAdded')).toHaveLength(1);
  });

  it('dead-letters malformed reports with a clear reason, replies invalid_request, and records nothing', async () => {
    const subject = `${bus.subjectRoot}.cmd.worker-registry.report.w-a`;
    const a = agents[0]!;
    const good = a.buildReport();
    const bad = [
      { payload: 'not json{', reason: /report is not valid JSON/ },
      { payload: JSON.stringify({ ...good, threads: [{ ...good.threads[0], state: 'PC9Done' }] }), reason: /thread #0: state "PC9Done" is not a state of plan sealer/ },
      { payload: JSON.stringify({ ...good, bootId: 'nope' }), reason: /report at \/bootId/ },
    ];
    const before = (await events('w-a')).length;
    for (const b of bad) {
      const msg = await core.nc.request(subject, Buffer.from(b.payload), { timeout: 5_000 });
      const reply = JSON.parse(Buffer.from(msg.data).toString()) as { ok: boolean; error: { code: string; message: string } };
      expect(reply.ok).toBe(false);
      expect(reply.error.code).toBe('invalid_request');
      expect(reply.error.message).toMatch(b.reason);
    }
    expect((await events('w-a')).length).toBe(before);
    const dlq = deadLetterStreamName(bus.eventStreamName);
    const letters = await expectEventually(async () => {
      const info = await core.jsm.streams.info(dlq);
      expect(info.state.messages).toBe(bad.length);
      const out = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) out.push(await core.jsm.streams.getMessage(dlq, { seq }));
      return out;
    });
    for (const [i, m] of letters.entries()) {
      expect(m.subject).toBe(`${bus.subjectRoot}.dlq.worker-registry`);
      expect(m.header.get(DeadLetterHeaders.kind)).toBe('malformed');
      expect(m.header.get(DeadLetterHeaders.consumer)).toBe('worker-registry');
      expect(m.header.get(DeadLetterHeaders.originalSubject)).toBe(subject);
      expect(m.header.get(DeadLetterHeaders.reason)).toMatch(bad[i]!.reason);
      expect(Buffer.from(m.data).toString()).toBe(bad[i]!.payload);
    }
    expect(letters[1]!.header.get(DeadLetterHeaders.reason)).toMatch(/^report from "w-a" refused/);
  });

});

describe('worker-registry: commands proxied to the agent', () => {
  it('pause and resume round trip, recorded with their actor', async () => {
    const a = agents[0]!;
    const p = await ask(core.commands.request(WorkerPause, { worker: 'w-a', index: 1 }));
    expect(p).toEqual({ worker: 'w-a', index: 1, changed: true });
    expect(a.threads[1]!.paused).toBe(true);
    const last = (await events('w-a')).at(-1)!;
    // the actor is the verified signer of the command, never a field of the request
    expect(last).toMatchObject({ type: 'ThreadPaused', data: { worker: 'w-a', index: 1, reason: 'manual', actor: 'test-operator' }, metadata: { actor: 'test-operator' } });
    // Visible at once, and the agent's next report (now paused) adds nothing.
    expect((await ask(core.commands.request(WorkerInfo, { worker: 'w-a' }))).threads[1]!.threadState).toBe('paused');
    expect(await a.report()).toMatchObject({ ok: true, result: { appended: 0 } });

    const r = await ask(core.commands.request(WorkerResume, { worker: '10.0.0.1:17890', index: 1, state: 'Allocated' }));
    expect(r).toEqual({ worker: 'w-a', index: 1, state: 'Allocated', changed: true });
    expect(a.threads[1]).toMatchObject({ paused: false, state: 'Allocated' });
    expect((await events('w-a')).at(-1)).toMatchObject({ type: 'ThreadResumed', data: { index: 1, state: 'Allocated', actor: 'test-operator' } });
    const info = await ask(core.commands.request(WorkerInfo, { worker: 'w-a' }));
    expect(info.threads[1]).toMatchObject({ state: 'Allocated', threadState: 'running' });
    expect(await a.report()).toMatchObject({ ok: true, result: { appended: 0 } });
  });

  it('an event another writer appends to a worker stream reaches the running registry, and its next append follows it', async () => {
    // `core` is another process's connection to the log (its own pool), like `fleetvisor events append`.
    const before = (await events('w-b')).length;
    agents[1]!.threads[1]!.paused = true; // paused on the worker, and recorded by a tool of the operator's
    await core.store.appendToStream('worker-w-b', [newEventFor(ThreadPaused, { worker: 'w-b', index: 1, reason: 'manual', actor: 'erin' }, { actor: 'erin' })]);
    await expectEventually(async () => {
      const info = await ask(core.commands.request(WorkerInfo, { worker: 'w-b' }));
      expect(info.threads[1]).toMatchObject({ threadState: 'paused', pauseReason: 'manual' });
    });
    expect((await ask(core.commands.request(WorkerList, {}))).workers.find((w) => w.name === 'w-b')).toMatchObject({ paused: 1 });
    // A worker only another writer knows appears too.
    await core.store.appendToStream('worker-w-x', [newEventFor(WorkerRegistered, { name: 'w-x', dest: '10.0.9.9:17890', version: '1.2.0', threads: 0 })]);
    await expectEventually(async () => expect((await ask(core.commands.request(WorkerInfo, { worker: 'w-x' }))).worker.dest).toBe('10.0.9.9:17890'));
    // The registry's own next decision is taken on the folded state: the resume appends without a conflict.
    expect(await ask(core.commands.request(WorkerResume, { worker: 'w-b', index: 1 }))).toMatchObject({ changed: true });
    expect(types((await events('w-b')).slice(before))).toEqual(['ThreadPaused', 'ThreadResumed']);
    expect(await ask(core.commands.request(WorkerRemove, { worker: 'w-x' }))).toEqual({ worker: 'w-x', removed: true });
  });

  it('refuses a resume state outside the plan, listing the valid ones, without asking the agent or recording anything', async () => {
    const a = agents[0]!;
    const calls = a.calls.length;
    const before = (await events('w-a')).length;
    const reply = await core.commands.request(WorkerResume, { worker: 'w-a', index: 0, state: 'SnapEncoded' });
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('invalid_request');
    expect(reply.error.message).toContain('state "SnapEncoded" is not a state of plan sealer');
    expect(reply.error.message).toContain('valid states: Empty, Allocated, DealsAcquired');
    expect(a.calls.length).toBe(calls);
    expect((await events('w-a')).length).toBe(before);
  });

  it('names what exists for an unknown worker or index, and says unavailable when the agent is gone', async () => {
    const w = await core.commands.request(WorkerPause, { worker: 'w-zz', index: 0 });
    expect(w).toEqual({ ok: false, error: { code: 'not_found', message: expect.stringContaining('workers: w-a, w-b') } });
    const i = await core.commands.request(WorkerPause, { worker: 'w-a', index: 9 });
    expect(i).toEqual({ ok: false, error: { code: 'not_found', message: 'worker w-a has no thread #9; threads: 0-3' } });

    const b = agents[1]!;
    await b.stopServing();
    const before = (await events('w-b')).length;
    const u = await core.commands.request(WorkerPause, { worker: 'w-b', index: 0 });
    expect(u).toEqual({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(/^worker w-b is unreachable: its agent did not answer pause/) } });
    expect((await events('w-b')).length).toBe(before);
    await b.serve();
  });

  it('a permanent error pauses the thread with reason error, and `errors` lists it', async () => {
    const b = agents[1]!;
    b.move(0, 'Allocated', { sectorId: 's-t01000-9' });
    b.fail(0, 'pc1 failed: disk full');
    await b.report();
    const evs = await events('w-b');
    expect(evs.at(-1)).toMatchObject({ type: 'ThreadPaused', data: { index: 0, reason: 'error', lastError: 'permanent: pc1 failed: disk full' } });
    const errs = await ask(core.commands.request(WorkerErrors, {}));
    expect(errs.threads).toEqual([
      { worker: 'w-b', index: 0, plan: 'sealer', state: 'Allocated', sectorId: 's-t01000-9', paused: true, lastError: 'permanent: pc1 failed: disk full', expired: false },
    ]);
    expect((await ask(core.commands.request(WorkerList, {}))).workers[1]).toMatchObject({ name: 'w-b', errors: 1, paused: 1 });
  });

  it('drain: started, threads pause with reason drain, finished when all are paused', async () => {
    const c = await agent('w-c', 3);
    await c.report();
    const first = await ask(core.commands.request(WorkerDrain, { worker: 'w-c' }));
    expect(first).toEqual({ worker: 'w-c', threads: 3, paused: 0, finished: false });
    expect((await events('w-c')).at(-1)).toMatchObject({ type: 'WorkerDrainStarted', data: { name: 'w-c', actor: 'test-operator' } });
    expect((await ask(core.commands.request(WorkerList, {}))).workers.find((w) => w.name === 'w-c')!.draining).toBe(true);
    for (let i = 0; i < 3; i++) {
      c.drainStep();
      await c.report();
      const progress = await ask(core.commands.request(WorkerDrain, { worker: 'w-c' }));
      expect(progress).toEqual({ worker: 'w-c', threads: 3, paused: i + 1, finished: i === 2 });
    }
    const evs = await events('w-c');
    expect(types(evs).filter((t) => t.startsWith('WorkerDrain'))).toEqual(['WorkerDrainStarted', 'WorkerDrainFinished']);
    expect(evs.filter((e) => e.type === 'ThreadPaused').map((e) => (e.data as { reason: string }).reason)).toEqual(['drain', 'drain', 'drain']);
    // Asking again once drained records nothing new.
    expect(await ask(core.commands.request(WorkerDrain, { worker: 'w-c' }))).toMatchObject({ finished: true });
    expect((await events('w-c')).length).toBe(evs.length);
  });

  it('history of a worker, a thread and a sector, with times, from the log', async () => {
    const h = await ask(core.commands.request(WorkerHistory, { worker: 'w-a', index: 1 }));
    expect(h.entries.map((e) => [e.type, e.prev, e.next, e.actor])).toEqual([
      ['ThreadStateChanged', 'Empty', 'Allocated', undefined],
      ['ThreadStateChanged', 'Allocated', 'PieceAdded', undefined],
      ['ThreadPaused', undefined, undefined, 'test-operator'],
      ['ThreadResumed', undefined, 'Allocated', 'test-operator'],
    ]);
    expect(h.entries.every((e) => !Number.isNaN(Date.parse(e.at)))).toBe(true);
    await expectEventually(async () => {
      const s = await ask(core.commands.request(WorkerHistory, { sectorId: 's-t01000-9' }));
      expect(s.entries.map((e) => [e.worker, e.type, e.next])).toEqual([
        ['w-b', 'ThreadStateChanged', 'Allocated'],
        ['w-b', 'ThreadStateChanged', 'Allocated'],
        ['w-b', 'ThreadPaused', undefined],
      ]);
    });
    const none = await core.commands.request(WorkerHistory, { worker: 'w-nope' });
    expect(none).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });
});

describe('worker-registry: expiry, removal, restart and rebuild', () => {
  it('a silent worker is marked expired once, and its next report brings it back', async () => {
    const b = agents[1]!;
    clockOffsetMs = SETTINGS.expirationMs + 5_000;
    await expectEventually(async () => {
      const evs = await events('w-a');
      expect(evs.at(-1)!.type).toBe('WorkerExpired');
    });
    const list = await ask(core.commands.request(WorkerList, {}));
    expect(list.workers.every((w) => w.expired)).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // several expiry checks: still one event each
    expect((await events('w-a')).filter((e) => e.type === 'WorkerExpired')).toHaveLength(1);
    clockOffsetMs += 1_000;
    await b.report();
    const bEvents = await events('w-b');
    expect(bEvents.at(-1)).toMatchObject({ type: 'WorkerReturned', data: { name: 'w-b' } });
    // The absence runs from the last report (the lastSeen of the WorkerExpired before), not from registration.
    const expiredB = bEvents.filter((e) => e.type === 'WorkerExpired').at(-1)!;
    const returnedB = bEvents.at(-1)!;
    const lastSeen = (expiredB.data as { lastSeen: string }).lastSeen;
    expect(Date.parse(lastSeen)).toBeGreaterThan(Date.parse(bEvents.find((e) => e.type === 'WorkerRegistered')!.occurredAt));
    expect(returnedB.data).toEqual({ name: 'w-b', lastSeen, absentMs: Date.parse(returnedB.occurredAt) - Date.parse(lastSeen) });
    expect((await ask(core.commands.request(WorkerList, {}))).workers.find((w) => w.name === 'w-b')!.expired).toBe(false);
    for (const a of agents) await a.report();
  });

  it('remove forgets a worker; its next report registers it anew', async () => {
    expect(await ask(core.commands.request(WorkerRemove, { worker: 'w-c' }))).toEqual({ worker: 'w-c', removed: true });
    expect((await ask(core.commands.request(WorkerList, {}))).workers.map((w) => w.name)).toEqual(['w-a', 'w-b']);
    const c = agents[2]!;
    c.reboot();
    for (const t of c.threads) t.paused = false;
    await c.report();
    expect(types(await events('w-c')).slice(-5)).toEqual(['WorkerRemoved', 'WorkerRegistered', 'ThreadStateChanged', 'ThreadStateChanged', 'ThreadStateChanged']);
    expect((await ask(core.commands.request(WorkerInfo, { worker: 'w-c' }))).threads).toHaveLength(3);
  });

  it('a second registry stands by on the leader lock until the active one stops, then takes over', async () => {
    const second = await registryApp();
    let active = false;
    const starting = second.listen().then(() => (active = true));
    // While the first is active, the second records nothing: a report is handled once.
    const a = agents[0]!;
    a.move(3, 'Allocated', { sectorId: 's-t01000-77' });
    expect(await a.report()).toMatchObject({ ok: true, result: { appended: 1 } });
    expect(active).toBe(false);
    await app.close();
    await expectEventually(() => expect(active).toBe(true), { timeoutMs: 10_000 });
    await starting;
    app = second;
    expect(registry().snapshot().get('w-a')!.threads.get(3)).toMatchObject({ state: 'Allocated', sectorId: 's-t01000-77' });
    expect(await a.report()).toMatchObject({ ok: true, result: { appended: 0 } });
  });

  it('restarted, the registry shows the same state, loaded from the projection of the log', async () => {
    const listBefore = (await ask(core.commands.request(WorkerList, {}))).workers.map(({ lastPing: _l, ...rest }) => rest);
    const snapshot = registry().snapshot();
    await app.close();
    app = await startRegistry();
    const after = registry().snapshot();
    expect(comparable(after)).toEqual(comparable(snapshot));
    // Counts come from the records until the next report (running vs waiting may differ before it).
    const listAfter = (await ask(core.commands.request(WorkerList, {}))).workers.map(({ lastPing: _l, ...rest }) => rest);
    expect(listAfter.map((w) => [w.name, w.threads, w.empty, w.paused, w.expired])).toEqual(listBefore.map((w) => [w.name, w.threads, w.empty, w.paused, w.expired]));
    for (const a of agents) expect(await a.report()).toMatchObject({ ok: true, result: { appended: 0 } });
    for (const a of agents) expect(truth((await ask(core.commands.request(WorkerInfo, { worker: a.name }))).threads)).toEqual(truth(a.threadInfos()));
    // Each worker is loaded at its stream's version: its next append expects exactly that.
    const live = app.get(LiveWorkers);
    for (const a of agents) expect(live.get(a.name)!.version).toBe(await core.store.streamVersion(`worker-${a.name}`));
  });

  it('a rebuild of the projection from the log equals the live state', async () => {
    const live = registry().snapshot();
    await registry().projectionRunner!.whenCaughtUp();
    const projected = await loadWorkerAggregates(core.pool);
    const result = await core.eventStore.rebuild(new WorkerRegistryProjection(), undefined, { batchSize: 7 });
    expect(result.processed).toBeGreaterThan(30);
    const rebuilt = await loadWorkerAggregates(core.pool);
    expect(comparable(rebuilt)).toEqual(comparable(live));
    expect(comparable(projected)).toEqual(comparable(live));
  });
});

// Last: its workers would change what the tests above count.
describe('worker-registry: scoped reports', () => {
  it('without the screen thread too: a report for another worker never reaches the registry, one for its own does', async () => {
    const other = createSubjects(testBusNames().subjectRoot);
    const handled: string[] = [];
    const intake = new ReportIntake({
      nc: core.nc,
      js: core.js,
      subjects: other,
      logger: core.logger,
      handle: async (r) => {
        handled.push(r.name);
        return { appended: 0, acceptedSeq: 0 } as never;
      },
    });
    await intake.start();
    try {
      expect(intake.screensOnThread).toBe(false);
      const report = new AgentStandIn(core.commands, 'w-main-1', '10.9.9.9:1', 1).buildReport();
      const ask = async (subject: string) => JSON.parse(Buffer.from((await core.nc.request(subject, Buffer.from(JSON.stringify(report)), { timeout: 5_000 })).data).toString()) as { ok: boolean; error?: { code: string } };
      expect((await ask(other.scopedCommand('worker-registry', 'report', 'w-main-2'))).error?.code).toBe('forbidden');
      expect((await ask(other.command('worker-registry', 'report'))).error?.code).toBe('upgrade_required');
      expect(handled).toEqual([]);
      expect((await ask(other.scopedCommand('worker-registry', 'report', 'w-main-1'))).ok).toBe(true);
      expect(handled).toEqual(['w-main-1']);
      expect(intake.stats).toMatchObject({ forbidden: 1, outdated: 1, handled: 1 });
    } finally {
      await intake.stop();
    }
  });

  it('refuses (forbidden) a report whose body names another worker than its subject, and records nothing', async () => {
    const x = await agent('w-scope-x', 1);
    const y = await agent('w-scope-y', 1);
    expect(await x.report()).toMatchObject({ ok: true });
    expect(await y.report()).toMatchObject({ ok: true });
    y.move(0, 'Allocated', { sectorId: 's-t01000-77' });
    const forged = y.buildReport();
    const beforeX = (await events('w-scope-x')).length;
    const beforeY = (await events('w-scope-y')).length;
    const lastPing = (await ask(core.commands.request(WorkerInfo, { worker: 'w-scope-y' }))).worker.lastPing;
    // y's report sent on x's subject (what x's credential may publish): refused.
    const reply = await core.commands.request(WorkerReportCommand, forged, { scope: 'w-scope-x', timeoutMs: 5_000 });
    expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(!reply.ok && reply.error.message).toMatch(/report\.w-scope-x may only be for worker "w-scope-x", this one is for "w-scope-y"/);
    expect((await events('w-scope-x')).length).toBe(beforeX);
    expect((await events('w-scope-y')).length).toBe(beforeY);
    // Not even a heartbeat: y's last ping is what it was.
    expect((await ask(core.commands.request(WorkerInfo, { worker: 'w-scope-y' }))).worker.lastPing).toBe(lastPing);
    expect(app.get(ReportIntake).stats.forbidden).toBeGreaterThanOrEqual(1);
    // The same report on its own subject is taken.
    expect(await y.report(forged)).toMatchObject({ ok: true, result: { appended: 1 } });
  });

  it('answers the old unscoped report subject with upgrade_required naming the new subject and version, and records nothing', async () => {
    const x = agents.find((a) => a.name === 'w-scope-x')!;
    x.move(0, 'Allocated', { sectorId: 's-t01000-88' });
    const before = (await events('w-scope-x')).length;
    const msg = await core.nc.request(`${bus.subjectRoot}.cmd.worker-registry.report`, Buffer.from(JSON.stringify(x.buildReport())), { timeout: 5_000 });
    const reply = JSON.parse(Buffer.from(msg.data).toString()) as { ok: boolean; error: { code: string; message: string } };
    expect(reply.ok).toBe(false);
    expect(reply.error.code).toBe('upgrade_required');
    expect(reply.error.message).toContain(`${bus.subjectRoot}.cmd.worker-registry.report.<worker>`);
    expect(reply.error.message).toContain(`upgrade the worker-agent to Fleetvisor ${fleetvisorVersion()}`);
    expect((await events('w-scope-x')).length).toBe(before);
  });
});
