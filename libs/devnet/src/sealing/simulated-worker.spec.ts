import { describe, expect, it } from 'vitest';
import { PLAN_STATES } from '@fleetvisor/contracts';
import { ManualClock } from './clock';
import { flowStep, happyPath, SYNTHETIC_PC2 } from './flows';
import { SimulatedWorker, type SimTransition, type SimulatedWorkerOptions } from './simulated-worker';

function worker(opts: Partial<SimulatedWorkerOptions> = {}) {
  const clock = new ManualClock();
  const w = new SimulatedWorker({ threads: 4, stepMs: 1000, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, clock, seed: 7, ...opts });
  const seen: SimTransition[] = [];
  w.onTransition((t) => seen.push(t));
  return { w, clock, seen };
}

describe('SimulatedWorker flows', () => {
  it('walks the sealer flow from Empty to Finished with damocles event names, then takes a new sector', () => {
    const { w, clock, seen } = worker({ threads: 1, plans: ['sealer'] });
    clock.advance(1000 * 40);
    w.advance();
    const first = seen.filter((t) => t.sectorId === 's-t01000-1');
    expect(first.map((t) => t.next)).toEqual(happyPath('sealer').slice(1));
    expect(first.map((t) => t.event).slice(0, 7)).toEqual(['Allocate', 'AcquireDeals', 'AddPiece', 'BuildTreeD', 'AssignTicket', 'PC1', 'PC2']);
    expect(first.at(-1)).toMatchObject({ prev: 'ProofSubmitted', next: 'Finished', event: 'Finish' });
    expect(seen.some((t) => t.sectorId === 's-t01000-2' && t.prev === 'Empty' && t.next === 'Allocated')).toBe(true);
  });

  it('emits only transitions that are valid for the thread plan, errors included', () => {
    const { w, clock, seen } = worker({ threads: 24, temporaryErrorRate: 0.2, permanentErrorRate: 0.01, abortRate: 0.02, syntheticPoRepRate: 0.5, jitter: 0.5 });
    for (let i = 0; i < 300; i++) {
      clock.advance(500);
      w.advance();
      // Resume error-paused threads so the run keeps going.
      w.threadInfos().forEach((t) => t.threadState === 'paused' && w.resume(t.index));
    }
    expect(seen.length).toBeGreaterThan(1000);
    const plans = new Set(seen.map((t) => t.plan));
    expect([...plans].sort()).toEqual(['sealer', 'snapup', 'unseal']);
    for (const t of seen) {
      expect(PLAN_STATES[t.plan]).toContain(t.prev);
      expect(PLAN_STATES[t.plan]).toContain(t.next);
      if (t.failure?.level === 'temporary' || t.failure?.level === 'permanent') expect(t.next).toBe(t.prev);
      else if (t.failure?.level === 'abort') expect(t.next).toBe('Aborted');
      else if (t.plan === 'sealer' && t.prev === 'PC1Done') expect([flowStep('sealer', 'PC1Done')!.next, SYNTHETIC_PC2.next]).toContain(t.next);
      else expect(t.next).toBe(flowStep(t.plan, t.prev)!.next);
    }
    expect(seen.some((t) => t.next === 'SyntheticPoRepNeeded')).toBe(true);
    expect(seen.some((t) => t.failure?.level === 'abort')).toBe(true);
  });

  it('is reproducible with the same seed and differs with another', () => {
    const run = (seed: number) => {
      const { w, clock, seen } = worker({ threads: 8, seed, temporaryErrorRate: 0.1, permanentErrorRate: 0.02, jitter: 0.3 });
      for (let i = 0; i < 50; i++) {
        clock.advance(700);
        w.advance();
      }
      return { seen, list: w.list() };
    };
    const a = run(42);
    const b = run(42);
    expect(b).toEqual(a);
    expect(a.seen.length).toBeGreaterThan(50);
    expect(run(43).seen).not.toEqual(a.seen);
  });

  it('shows threads in damocles shape: index, location, plan, job id, state, stage, thread state, last error', () => {
    const { w, clock } = worker({ threads: 3, plans: ['sealer', 'snapup', 'unseal'], idleMs: 1 });
    clock.advance(1);
    w.advance();
    // Allocated at t+1, then one state per second: TicketAssigned from t+4001.
    clock.advance(4000 + 999);
    const list = w.list();
    expect(list[0]).toEqual({
      location: '/data/store0',
      plan: 'sealer',
      job_id: expect.stringMatching(/^s-t01000-\d+$/),
      index: 0,
      thread_state: { state: 'Running', elapsed: 0, proc: null },
      job_state: 'TicketAssigned',
      job_stage: 'PC1',
      last_error: null,
    });
    // The unseal flow is short: its thread is on its second sector already.
    expect(list[2]).toMatchObject({ plan: 'unseal', job_state: 'Allocated', job_stage: 'Unseal', job_id: expect.stringMatching(/^s-t01000-\d+$/) });
    expect(new Set(list.map((t) => t.job_id)).size).toBe(3);
    const infos = w.threadInfos();
    expect(infos[0]).toMatchObject({ index: 0, plan: 'sealer', threadState: 'running', state: 'TicketAssigned', stage: 'PC1', elapsedMs: 999 });
    expect(infos[2]!.sectorId).toBe(list[2]!.job_id);
  });

  it('shows a thread without a task as Idle in state Empty', () => {
    const { w } = worker({ threads: 1, idleMs: 10_000 });
    expect(w.list()[0]).toMatchObject({ job_state: 'Empty', job_stage: null, job_id: null, thread_state: { state: 'Idle' }, last_error: null });
    expect(w.threadInfos()[0]).toEqual({ index: 0, location: '/data/store0', plan: 'sealer', threadState: 'idle', elapsedMs: 0, state: 'Empty' });
  });

  it('shows chain waits as Waiting', () => {
    const { w, clock } = worker({ threads: 1, plans: ['sealer'], idleMs: 1 });
    clock.advance(1 + 1000 * 7 + 10);
    expect(w.list()[0]).toMatchObject({ job_state: 'PCSubmitted', job_stage: 'WaitPCLanded', thread_state: { state: 'Waiting', elapsed: 0 } });
  });
});

describe('SimulatedWorker errors', () => {
  it('retries a temporary error in place, reporting the failure on a transition', () => {
    const { w, clock, seen } = worker({ threads: 1, plans: ['sealer'], temporaryErrorRate: 1, idleMs: 1 });
    clock.advance(1 + 3000);
    w.advance();
    expect(seen[0]).toMatchObject({ prev: 'Empty', next: 'Allocated', event: 'Allocate' });
    expect(seen.slice(1)).toHaveLength(3);
    for (const t of seen.slice(1)) expect(t).toMatchObject({ prev: 'Allocated', next: 'Allocated', event: 'AcquireDeals', failure: { level: 'temporary', desc: expect.stringContaining('AcquireDeals') } });
    expect(w.threadInfos()[0]).toMatchObject({ threadState: 'running', state: 'Allocated' });
    expect(w.threadInfos()[0]).not.toHaveProperty('lastError');
  });

  it('pauses a thread on a permanent error with last_error "permanent: ..."; resume clears it', () => {
    const { w, clock, seen } = worker({ threads: 1, plans: ['sealer'], permanentErrorRate: 1, idleMs: 1 });
    clock.advance(1 + 5000);
    w.advance();
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ prev: 'Allocated', next: 'Allocated', failure: { level: 'permanent' } });
    const info = w.threadInfos()[0]!;
    expect(info).toMatchObject({ threadState: 'paused', state: 'Allocated', elapsedMs: 4000 });
    expect(info.lastError).toMatch(/^permanent: AcquireDeals: /);
    expect(w.list()[0]!.last_error).toBe(info.lastError);
    expect(w.pauseReason(0)).toBe('error');
    expect(w.resume(0)).toBe(true);
    expect(w.threadInfos()[0]).toMatchObject({ threadState: 'running', state: 'Allocated' });
    expect(w.threadInfos()[0]).not.toHaveProperty('lastError');
  });
});

describe('SimulatedWorker controls', () => {
  it('pauses and resumes like VenusWorker.WorkerPause / WorkerResume', () => {
    const { w, clock, seen } = worker({ threads: 2, plans: ['sealer'], idleMs: 1 });
    clock.advance(1 + 1500);
    expect(w.pause(1)).toBe(true);
    expect(w.pause(1)).toBe(false);
    const before = seen.filter((t) => t.index === 1).length;
    clock.advance(10_000);
    w.advance();
    expect(seen.filter((t) => t.index === 1)).toHaveLength(before);
    expect(w.threadInfos()[1]).toMatchObject({ threadState: 'paused', state: 'DealsAcquired', elapsedMs: 10_000 });
    expect(w.list()[1]!.thread_state).toEqual({ state: 'Paused', elapsed: 10 });
    expect(w.pauseReason(1)).toBe('manual');
    expect(w.resume(0)).toBe(false);
    expect(w.resume(1)).toBe(true);
    clock.advance(1000);
    w.advance();
    expect(w.threadInfos()[1]).toMatchObject({ threadState: 'running', state: 'PieceAdded' });
  });

  it('answers "worker #N not found" for an unknown index', () => {
    const { w } = worker();
    expect(() => w.pause(4)).toThrow('worker #4 not found');
    expect(() => w.resume(99)).toThrow('worker #99 not found');
    expect(() => w.pause(-1)).toThrow('worker #-1 not found');
  });

  it('refuses to resume to a state outside the plan, listing the valid ones, and changes nothing', () => {
    const { w, clock, seen } = worker({ threads: 1, plans: ['unseal'], idleMs: 1 });
    clock.advance(2);
    w.pause(0);
    const n = seen.length;
    expect(() => w.resume(0, 'PC1Done')).toThrow('state "PC1Done" is not a state of plan unseal (thread #0); valid: Empty, Allocated, Unsealed, Finished, Aborted');
    expect(seen).toHaveLength(n);
    expect(w.threadInfos()[0]).toMatchObject({ threadState: 'paused', state: 'Allocated' });
  });

  it('resumes to another state of the plan with a SetState transition', () => {
    const { w, clock, seen } = worker({ threads: 1, plans: ['sealer'], idleMs: 1 });
    clock.advance(1 + 2500);
    w.pause(0);
    expect(w.resume(0, 'PC2Done')).toBe(true);
    expect(seen.at(-1)).toMatchObject({ prev: 'PieceAdded', next: 'PC2Done', event: 'SetState', sectorId: 's-t01000-1' });
    clock.advance(1000);
    expect(w.threadInfos()[0]).toMatchObject({ state: 'PCSubmitted', threadState: 'waiting' });
  });

  it('drains: idle threads pause at once, busy ones at their next state boundary, and none takes a new task', () => {
    const { w, clock, seen } = worker({ threads: 3, plans: ['sealer'], idleMs: 1000 });
    // Thread start times are spread over the first idle period; let exactly those due start.
    clock.advance(1000);
    w.advance();
    w.pause(2);
    const busy = w.threadInfos().filter((t) => t.threadState === 'running').map((t) => t.index);
    expect(busy.length).toBeGreaterThan(0);
    const status = w.drain();
    expect(status.threads).toBe(3);
    expect(status.finished).toBe(false);
    expect(w.isDraining).toBe(true);
    const before = new Map(busy.map((i) => [i, seen.filter((t) => t.index === i).length]));
    clock.advance(1200);
    w.advance();
    for (const i of busy) {
      expect(seen.filter((t) => t.index === i)).toHaveLength(before.get(i)! + 1);
      expect(w.pauseReason(i)).toBe('drain');
    }
    expect(w.drainStatus()).toEqual({ threads: 3, paused: 3, finished: true });
    expect(w.isDraining).toBe(false);
    const total = seen.length;
    clock.advance(60_000);
    w.advance();
    expect(seen).toHaveLength(total);
  });

  it('validates its options', () => {
    expect(() => new SimulatedWorker({ threads: 0 })).toThrow('threads must be an integer from 1 to 65536');
    expect(() => new SimulatedWorker({ threads: 1, temporaryErrorRate: 2 })).toThrow('temporaryErrorRate must be between 0 and 1');
    expect(() => new SimulatedWorker({ threads: 1, plans: ['wdpost' as 'sealer'] })).toThrow('plan "wdpost" is not simulated');
  });
});
