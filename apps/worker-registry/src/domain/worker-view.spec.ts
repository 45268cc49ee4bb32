import { describe, expect, it } from 'vitest';
import type { ThreadInfo } from '@fleetvisor/contracts';
import type { ThreadRecord, WorkerAggregate } from './worker-state';
import { countThreads, ReportedThreads, summaryView, threadView, threadViews } from './worker-view';

function rec(index: number, over: Partial<ThreadRecord> = {}): ThreadRecord {
  return {
    worker: 'w1',
    index,
    plan: 'sealer',
    state: 'PC1Done',
    location: undefined,
    sectorId: undefined,
    paused: false,
    pausedAt: undefined,
    pauseReason: undefined,
    lastError: undefined,
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

function agg(threads: ThreadRecord[]): WorkerAggregate {
  return {
    worker: {
      name: 'w1',
      dest: '10.0.0.1:17890',
      version: 'v1',
      threads: threads.length,
      registeredAt: '2026-01-01T00:00:00.000Z',
      expired: false,
      draining: false,
      drained: false,
      acceptedSeq: 0,
      lastEventAt: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T00:00:00.000Z',
    },
    threads: new Map(threads.map((t) => [t.index, t])),
  };
}

describe('ReportedThreads', () => {
  it('lays the last report over the record: run state, elapsed (aged), stage, last error', () => {
    const reported = ReportedThreads.of(
      [
        { index: 0, plan: 'sealer', threadState: 'waiting', elapsedMs: 1_000, state: 'PC1Done', stage: 'PC2' },
        { index: 1, plan: 'sealer', threadState: 'running', state: 'PC1Done', lastError: 'temporary: x' },
      ],
      10_000,
    );
    expect(threadView(rec(0), reported, 10_500)).toEqual({ index: 0, plan: 'sealer', threadState: 'waiting', elapsedMs: 1_500, state: 'PC1Done', stage: 'PC2' });
    expect(threadView(rec(1), reported, 10_500)).toEqual({ index: 1, plan: 'sealer', threadState: 'running', state: 'PC1Done', lastError: 'temporary: x' });
    // Not in the report: the record alone.
    expect(threadView(rec(2, { lastError: 'old' }), reported, 10_500)).toEqual({ index: 2, plan: 'sealer', threadState: 'running', state: 'PC1Done', lastError: 'old' });
  });

  it('lets the record win on paused until a report agrees', () => {
    const reported = ReportedThreads.of([{ index: 0, plan: 'sealer', threadState: 'running', elapsedMs: 5, state: 'PC1Done', stage: 'PC2' }], 0);
    const v = threadView(rec(0, { paused: true, pausedAt: '1970-01-01T00:00:01.000Z' }), reported, 3_000);
    expect(v).toEqual({ index: 0, plan: 'sealer', threadState: 'paused', elapsedMs: 2_000, state: 'PC1Done' });
  });

  it('finds threads by index when the report is sparse or out of order, and updates in place', () => {
    const threads: ThreadInfo[] = [
      { index: 7, plan: 'sealer', threadState: 'waiting', state: 'PC1Done' },
      { index: 3, plan: 'sealer', threadState: 'paused', state: 'PC1Done', lastError: 'permanent: disk' },
    ];
    const reported = ReportedThreads.of(threads, 0);
    const a = agg([rec(3, { paused: true }), rec(7), rec(9, { state: 'Empty' })]);
    expect(threadViews(a, reported, 0).map((t) => [t.index, t.threadState])).toEqual([
      [3, 'paused'],
      [7, 'waiting'],
      [9, 'idle'],
    ]);
    expect(countThreads(a, reported)).toEqual({ empty: 1, paused: 1, running: 0, waiting: 1, errors: 1 });
    // The next report changes thread 7 and clears the error: same object, new values.
    reported.update(
      [
        { index: 7, plan: 'sealer', threadState: 'running', state: 'PC1Done' },
        { index: 3, plan: 'sealer', threadState: 'paused', state: 'PC1Done' },
      ],
      1,
    );
    const counts = { empty: 9, paused: 9, running: 9, waiting: 9, errors: 9 };
    expect(countThreads(a, reported, counts)).toBe(counts);
    expect(counts).toEqual({ empty: 1, paused: 1, running: 1, waiting: 0, errors: 0 });
  });
});

describe('a worker nobody can see', () => {
  it('shows no thread of an expired or unreachable worker as running: unknown, paused ones stay paused', () => {
    const reported = ReportedThreads.of(
      [
        { index: 0, plan: 'sealer', threadState: 'running', elapsedMs: 5, state: 'PC1Done', stage: 'PC1' },
        { index: 1, plan: 'sealer', threadState: 'paused', state: 'PC1Done' },
      ],
      0,
    );
    const a = agg([rec(0), rec(1, { paused: true, pausedAt: '1970-01-01T00:00:00.000Z' })]);
    const counts = countThreads(a, reported);
    expect(counts).toMatchObject({ running: 1, paused: 1 });
    expect(threadViews(a, reported, 1_000, true).map((t) => [t.threadState, t.stage])).toEqual([
      ['unknown', undefined],
      ['paused', undefined],
    ]);
    expect(threadViews(a, reported, 1_000).map((t) => t.threadState)).toEqual(['running', 'paused']);
    // Silent past the expiration: nothing counted as running.
    expect(summaryView(a, counts, 0, 10_000, 5_000)).toMatchObject({ expired: true, running: 0, waiting: 0, paused: 1 });
    expect(summaryView(a, counts, 0, 1_000, 5_000)).toMatchObject({ expired: false, running: 1 });
    a.worker.unreachable = 'ECONNREFUSED';
    expect(summaryView(a, counts, 0, 1_000, 5_000)).toMatchObject({ expired: false, running: 0, unreachable: 'ECONNREFUSED' });
  });
});
