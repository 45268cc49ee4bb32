import { describe, expect, it } from 'vitest';
import { diffSnapshots, parseWorkerList } from './damocles-threads';

const item = (over: Record<string, unknown> = {}) => ({
  location: '/data/store0',
  plan: 'sealer',
  job_id: 's-t01000-42',
  index: 0,
  thread_state: { state: 'Running', elapsed: 65, proc: null },
  job_state: 'PC1Done',
  job_stage: 'PC2',
  last_error: null,
  ...over,
});

describe('parseWorkerList (damocles WorkerList -> ThreadInfo)', () => {
  it('maps the current wire shape, elapsed seconds to ms', () => {
    expect(parseWorkerList([item()]).threads).toEqual([
      { index: 0, plan: 'sealer', threadState: 'running', elapsedMs: 65_000, state: 'PC1Done', location: '/data/store0', sectorId: 's-t01000-42', stage: 'PC2' },
    ]);
  });

  it('reads the older {"type","secs"} thread state, an idle thread with job_state "" and location "-"', () => {
    const { threads } = parseWorkerList([
      item({ index: 1, thread_state: { type: 'Paused', secs: 3 }, last_error: 'permanent: PC2: boom' }),
      item({ index: 0, thread_state: { state: 'Idle' }, job_state: '', job_id: null, job_stage: null, location: '-' }),
    ]);
    expect(threads).toEqual([
      { index: 0, plan: 'sealer', threadState: 'idle', state: 'Empty' },
      expect.objectContaining({ index: 1, threadState: 'paused', elapsedMs: 3000, lastError: 'permanent: PC2: boom' }),
    ]);
  });

  it('reports threads of plans Fleetvisor has no state list for (niporep, supra, future ones) with their states as given', () => {
    const { threads, skipped } = parseWorkerList([
      item({ plan: 'niporep', job_state: 'PC1Done' }),
      item({ index: 1, plan: 'supra', job_id: null, job_state: '', thread_state: { state: 'Idle' } }),
      item({ index: 2, plan: 'someday', job_state: 'StateNobodyKnows' }),
    ]);
    expect(skipped).toEqual([]);
    expect(threads.map((t) => [t.index, t.plan, t.state, t.threadState])).toEqual([
      [0, 'niporep', 'PC1Done', 'running'],
      [1, 'supra', 'Empty', 'idle'],
      [2, 'someday', 'StateNobodyKnows', 'running'],
    ]);
  });

  it('leaves out what the contracts cannot carry, saying why', () => {
    const { threads, skipped } = parseWorkerList([item({ plan: 'Not A Plan' }), item({ index: 2, job_state: 'Nope' }), 'x', item({ index: 3, thread_state: {} })]);
    expect(threads).toEqual([]);
    expect(skipped).toEqual([
      'thread #0: plan "Not A Plan" is not a plan name',
      'thread #2: job_state "Nope" is not a state of plan sealer',
      'malformed item "x"',
      'thread #3: unreadable thread_state {}',
    ]);
    expect(() => parseWorkerList({})).toThrow('WorkerList did not return an array');
  });
});

describe('diffSnapshots', () => {
  const at = new Date('2025-01-01T00:00:00.000Z');
  const snap = (...items: Record<string, unknown>[]) => parseWorkerList(items.map((o) => item(o))).threads;

  it('reports a job state change on the same sector', () => {
    expect(diffSnapshots(snap({ job_state: 'TicketAssigned' }), snap({ job_state: 'PC1Done' }), at)).toEqual([
      { index: 0, plan: 'sealer', prev: 'TicketAssigned', next: 'PC1Done', at: '2025-01-01T00:00:00.000Z', location: '/data/store0', sectorId: 's-t01000-42' },
    ]);
  });

  it('reports the end of a sector and a new sector from Empty, and nothing when only the run state changed', () => {
    expect(diffSnapshots(snap({ job_state: 'Finished' }), snap({ job_id: 's-t01000-43', job_state: 'Allocated' }), at)).toMatchObject([
      { prev: 'Finished', next: 'Empty', sectorId: 's-t01000-42' },
      { prev: 'Empty', next: 'Allocated', sectorId: 's-t01000-43' },
    ]);
    expect(diffSnapshots(snap({}), snap({ thread_state: { state: 'Paused', elapsed: 1 } }), at)).toEqual([]);
  });

  it('records the end of each sector, also when no poll saw Finished (ProofSubmitted, then no job)', () => {
    expect(diffSnapshots(snap({ job_state: 'ProofSubmitted' }), snap({ job_id: null, job_state: '' }), at)).toEqual([
      { index: 0, plan: 'sealer', prev: 'ProofSubmitted', next: 'Empty', at: '2025-01-01T00:00:00.000Z', location: '/data/store0', sectorId: 's-t01000-42' },
    ]);
    // Straight to the next sector: the old one ends, the new one starts.
    expect(diffSnapshots(snap({ job_state: 'ProofSubmitted' }), snap({ job_id: 's-t01000-43', job_state: 'PieceAdded' }), at).map((t) => [t.sectorId, t.prev, t.next])).toEqual([
      ['s-t01000-42', 'ProofSubmitted', 'Empty'],
      ['s-t01000-43', 'Empty', 'PieceAdded'],
    ]);
    // A thread that was idle has nothing to end.
    expect(diffSnapshots(snap({ job_id: null, job_state: '' }), snap({ job_id: null, job_state: '' }), at)).toEqual([]);
  });
});
