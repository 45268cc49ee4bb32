import { describe, expect, it } from 'vitest';
import { deterministicEventId, fleetEvents, newEventFor, WorkerExpired, type ThreadInfo, type WorkerReport } from '@fleetvisor/contracts';
import { describeIndexes } from '../registry/thread-lookup';
import { checkReport, decideReport } from './report-decision';
import { cloneAggregate, evolveWorker, type WorkerAggregate } from './worker-state';

const BOOT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const NOW = Date.parse('2026-01-02T03:04:05.000Z');

function thread(index: number, over: Partial<ThreadInfo> = {}): ThreadInfo {
  return { index, plan: 'sealer', threadState: 'idle', state: 'Empty', location: `/s/${index}`, ...over };
}

function report(over: Partial<WorkerReport> = {}): WorkerReport {
  return { name: 'w1', dest: '10.0.0.1:17890', version: '1.0.0', bootId: BOOT, sentAt: '2026-01-02T03:04:04.000Z', threads: [thread(0), thread(1)], transitions: [], ...over };
}

/** Decides and folds, as the registry does after a successful append. */
function apply(state: WorkerAggregate | undefined, r: WorkerReport) {
  const d = decideReport(state, r, { nowMs: NOW, host: 'h' });
  for (const e of d.events) expect(fleetEvents.parse(e)).toMatchObject({ ok: true }); // every event passes its contract
  return d;
}

describe('decideReport', () => {
  it('registers a new worker with its threads, then appends nothing for the same report', () => {
    const first = apply(undefined, report());
    expect(first.events.map((e) => e.type)).toEqual(['WorkerRegistered', 'ThreadStateChanged', 'ThreadStateChanged']);
    expect(first.next!.threads.get(1)).toMatchObject({ state: 'Empty', paused: false, location: '/s/1' });
    expect(apply(first.next, report({ sentAt: '2026-01-02T03:04:14.000Z' })).events).toEqual([]);
  });

  it('leaves the caller state as it was and copies only the threads its events change', () => {
    const state = apply(undefined, report()).next!;
    const before = structuredClone(state);
    const r = report({
      sentAt: '2026-01-02T03:04:14.000Z',
      threads: [thread(0, { state: 'Allocated', sectorId: 's-1' }), thread(1, { threadState: 'paused', lastError: 'permanent: disk' })],
      transitions: [{ seq: 1, index: 0, plan: 'sealer', prev: 'Empty', next: 'Allocated', sectorId: 's-1', at: '2026-01-02T03:04:10.000Z' }],
    });
    const d = apply(state, r);
    expect(d.events.map((e) => e.type)).toEqual(['ThreadStateChanged', 'ThreadStateChanged', 'ThreadPaused']); // transition, location observed, pause
    expect(state).toEqual(before); // an append that fails keeps the old state intact
    expect(d.next!.threads.get(0)).toMatchObject({ state: 'Allocated', sectorId: 's-1' });
    expect(d.next!.threads.get(1)).toMatchObject({ paused: true, pauseReason: 'error' });
    expect(d.next!.threads.get(0)).not.toBe(state.threads.get(0));
    const three = apply(undefined, report({ threads: [thread(0), thread(1), thread(2)] })).next!;
    const one = apply(three, report({ sentAt: '2026-01-02T03:04:14.000Z', threads: [thread(0), thread(1, { state: 'Allocated' }), thread(2)] }));
    expect(one.next!.threads.get(0)).toBe(three.threads.get(0)); // unchanged threads are shared, not copied
    expect(one.next!.threads.get(1)).not.toBe(three.threads.get(1));
    expect(three.threads.get(1)!.state).toBe('Empty');
  });

  it('gives the same ids to the same report, so a re-sent one is dropped by the log', () => {
    const r = report({ transitions: [{ seq: 1, index: 0, plan: 'sealer', prev: 'Empty', next: 'Allocated', sectorId: 's-1', at: '2026-01-02T03:04:00.000Z' }] });
    const a = apply(undefined, r).events.map((e) => e.id);
    const b = apply(undefined, structuredClone(r)).events.map((e) => e.id);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
    expect(deterministicEventId(NOW, 'x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('records transitions once per boot seq and starts again with a new boot', () => {
    const t1 = { seq: 1, index: 0, plan: 'sealer' as const, prev: 'Empty', next: 'Allocated', sectorId: 's-1', location: '/s/0', at: '2026-01-02T03:04:00.000Z' };
    const s1 = apply(undefined, report({ threads: [thread(0, { state: 'Allocated', sectorId: 's-1', threadState: 'running' }), thread(1)], transitions: [t1] }));
    expect(s1.acceptedSeq).toBe(1);
    expect(s1.events.filter((e) => e.type === 'ThreadStateChanged').map((e) => (e.data as { event?: string }).event)).toEqual([undefined, 'registered']);
    const again = apply(s1.next, report({ threads: [thread(0, { state: 'Allocated', sectorId: 's-1', threadState: 'running' }), thread(1)], transitions: [t1] }));
    expect(again).toMatchObject({ events: [], acceptedSeq: 1 });
    const reboot = apply(s1.next, report({ bootId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c', threads: [thread(0, { state: 'PieceAdded', sectorId: 's-1' }), thread(1)], transitions: [{ ...t1, prev: 'Allocated', next: 'PieceAdded' }] }));
    expect(reboot.acceptedSeq).toBe(1);
    expect(reboot.events.map((e) => e.type)).toEqual(['ThreadStateChanged']);
    expect(reboot.next!.worker.bootId).toBe('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c');
  });

  it('reconciles a state the transitions do not explain, and notices pauses by error, drain and hand', () => {
    const s = apply(undefined, report()).next!;
    const d = apply(s, report({ version: '1.1.0', threads: [thread(0, { state: 'PC1Done', threadState: 'paused', lastError: 'permanent: disk full' }), thread(1, { threadState: 'paused' })] }));
    expect(d.events.map((e) => [e.type, (e.data as { reason?: string }).reason ?? (e.data as { event?: string }).event ?? ''])).toEqual([
      ['WorkerUpdated', ''],
      ['ThreadStateChanged', 'observed'],
      ['ThreadPaused', 'error'],
      ['ThreadPaused', 'manual'],
    ]);
    expect(d.events[0]!.data).toMatchObject({ changed: ['version'] });
    expect(d.events[2]!.data).toMatchObject({ lastError: 'permanent: disk full' });
    // Resumed at the worker itself.
    const r = apply(d.next, report({ version: '1.1.0', threads: [thread(0, { state: 'PC1Done' }), thread(1, { threadState: 'paused' })] }));
    expect(r.events.map((e) => e.type)).toEqual(['ThreadResumed']);
    expect(r.next!.threads.get(0)).toMatchObject({ paused: false });
    expect(r.next!.threads.get(0)!.lastError).toBeUndefined();
  });

  it('finishes a drain when every thread is paused', () => {
    const s = apply(undefined, report()).next!;
    const draining = s;
    draining.worker.draining = true;
    draining.worker.drainStartedAt = new Date(NOW - 5_000).toISOString();
    const d = apply(draining, report({ threads: [thread(0, { threadState: 'paused' }), thread(1, { threadState: 'paused' })] }));
    expect(d.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([
      ['ThreadPaused', 'drain'],
      ['ThreadPaused', 'drain'],
      ['WorkerDrainFinished', undefined],
    ]);
    expect(d.events[2]!.data).toEqual({ name: 'w1', durationMs: 5_000 });
    expect(d.next!.worker).toMatchObject({ draining: false, drained: true });
  });
});

describe('decideReport: plans and pause reasons as the agent gives them', () => {
  it('records a thread of another damocles plan with its states, and takes the pause reason the agent knows', () => {
    const s = apply(undefined, report({ threads: [thread(0, { plan: 'niporep', state: 'Allocated', sectorId: 's-9' }), thread(1)] }));
    expect(s.next!.threads.get(0)).toMatchObject({ plan: 'niporep', state: 'Allocated' });
    const d = apply(s.next, report({ sentAt: '2026-01-02T03:04:14.000Z', threads: [thread(0, { plan: 'niporep', state: 'Allocated', sectorId: 's-9' }), thread(1, { threadState: 'paused', pauseReason: 'drain' })] }));
    expect(d.events.map((e) => [e.type, (e.data as { reason?: string }).reason])).toEqual([['ThreadPaused', 'drain']]);
    // An error pause needs its error: without one the registry decides as before.
    const e = apply(s.next, report({ sentAt: '2026-01-02T03:04:14.000Z', threads: [thread(0, { plan: 'niporep', state: 'Allocated', sectorId: 's-9' }), thread(1, { threadState: 'paused', pauseReason: 'error' })] }));
    expect(e.events.map((x) => (x.data as { reason?: string }).reason)).toEqual(['manual']);
  });
});

describe('decideReport: the end of a sector', () => {
  it('records the end transition on the sector that ended; the thread is then Empty without a sector, and nothing more is observed', () => {
    const s = apply(undefined, report({ threads: [thread(0, { state: 'ProofSubmitted', sectorId: 's-1', threadState: 'waiting' })] })).next!;
    const end = { seq: 1, index: 0, plan: 'sealer' as const, prev: 'ProofSubmitted', next: 'Empty', sectorId: 's-1', location: '/s/0', at: '2026-01-02T03:04:10.000Z' };
    const d = apply(s, report({ sentAt: '2026-01-02T03:04:14.000Z', threads: [thread(0)], transitions: [end] }));
    expect(d.events.map((e) => [e.type, (e.data as { sectorId?: string }).sectorId, (e.data as { next: string }).next])).toEqual([['ThreadStateChanged', 's-1', 'Empty']]);
    expect(d.next!.threads.get(0)).toMatchObject({ state: 'Empty', sectorId: undefined });
    // A worker that still names the old sector on an Empty thread changes nothing either.
    expect(apply(d.next, report({ sentAt: '2026-01-02T03:04:24.000Z', threads: [thread(0, { sectorId: 's-1' })], transitions: [end] })).events).toEqual([]);
  });
});

describe('decideReport: a worker back after WorkerExpired', () => {
  it('measures the absence from its last report (the WorkerExpired lastSeen), not from its registration', () => {
    const s = apply(undefined, report()).next!;
    const lastReport = new Date(NOW + 100_000).toISOString();
    const expired = evolveWorker(cloneAggregate(s), newEventFor(WorkerExpired, { name: 'w1', lastSeen: lastReport, expirationMs: 60_000 }, {}, { occurredAt: new Date(NOW + 170_000) }))!;
    const back = decideReport(expired, report({ sentAt: new Date(NOW + 250_000).toISOString() }), { nowMs: NOW + 250_000, host: 'h' });
    expect(back.events.map((e) => [e.type, e.data])).toEqual([['WorkerReturned', { name: 'w1', lastSeen: lastReport, absentMs: 150_000 }]]);
  });
});

describe('decideReport: a worker its agent cannot reach', () => {
  it('records WorkerUnreachable once, keeps the threads, and WorkerReachable when it is listed again', async () => {
    const s = apply(undefined, report({ threads: [thread(0, { state: 'Allocated', sectorId: 's-1', threadState: 'running' }), thread(1)] })).next!;
    const down = report({ sentAt: '2026-01-02T03:04:14.000Z', version: 'unknown', threads: [], unreachable: 'damocles-worker admin API at http://10.0.0.1:17890/ unreachable: ECONNREFUSED' });
    const d = apply(s, down);
    expect(d.events.map((e) => [e.type, e.data])).toEqual([['WorkerUnreachable', { name: 'w1', error: down.unreachable }]]);
    expect(d.next!.worker).toMatchObject({ unreachable: down.unreachable, unreachableSince: new Date(NOW).toISOString(), threads: 2, version: '1.0.0' });
    expect(d.next!.threads.get(0)).toMatchObject({ state: 'Allocated', sectorId: 's-1' });
    // Still down: nothing new (not one event per report).
    expect(apply(d.next, { ...down, sentAt: '2026-01-02T03:04:24.000Z', unreachable: 'another error text' }).events).toEqual([]);
    const back = decideReport(d.next, report({ sentAt: '2026-01-02T03:04:34.000Z', threads: [thread(0, { state: 'Allocated', sectorId: 's-1', threadState: 'running' }), thread(1)] }), {
      nowMs: NOW + 30_000,
      host: 'h',
    });
    expect(back.events.map((e) => [e.type, e.data])).toEqual([['WorkerReachable', { name: 'w1', unreachableMs: 30_000 }]]);
    expect(back.next!.worker.unreachable).toBeUndefined();
  });

  it('registers a worker first seen unreachable without threads, then learns them', () => {
    const d = apply(undefined, report({ threads: [], unreachable: 'timeout' }));
    expect(d.events.map((e) => e.type)).toEqual(['WorkerRegistered', 'WorkerUnreachable']);
    const back = apply(d.next, report({ sentAt: '2026-01-02T03:04:14.000Z' }));
    expect(back.events.map((e) => e.type)).toEqual(['WorkerReachable', 'WorkerUpdated', 'ThreadStateChanged', 'ThreadStateChanged']);
  });
});

describe('checkReport', () => {
  it('refuses what the schema cannot see, naming it', () => {
    expect(checkReport(report())).toBeUndefined();
    expect(checkReport(report({ threads: [thread(0), thread(0)] }))).toBe('thread index 0 appears twice in threads');
    expect(checkReport(report({ threads: [thread(0, { plan: 'unseal', state: 'PC1Done' })] }))).toMatch(/^thread #0: state "PC1Done" is not a state of plan unseal \(valid: Empty, Allocated, Unsealed, Finished, Aborted\)$/);
    const t = { index: 0, plan: 'sealer' as const, prev: 'Empty', next: 'Allocated', at: '2026-01-02T03:04:00.000Z' };
    expect(checkReport(report({ transitions: [{ ...t, seq: 2 }, { ...t, seq: 2 }] }))).toMatch(/strictly increasing seq order: seq 2 after 2/);
    expect(checkReport(report({ transitions: [{ ...t, seq: 1, next: 'SnapEncoded' }] }))).toMatch(/transition seq 1 \(thread #0\): next "SnapEncoded" is not a state of plan sealer/);
  });
});

describe('describeIndexes', () => {
  it('collapses runs', () => {
    expect(describeIndexes([5, 0, 1, 2, 3, 7, 8, 9])).toBe('0-3, 5, 7-9');
    expect(describeIndexes([4])).toBe('4');
  });
});
