import { describe, expect, it } from 'vitest';
import { THREAD_RUN_STATES, WorkerReportCommand, type ThreadInfo, type WorkerReport } from '@fleetvisor/contracts';
import { ManualClock, SimulatedWorker } from '@fleetvisor/devnet';
import { validationError } from '@fleetvisor/messaging';
import { decideReport } from '../domain/report-decision';
import { ReportedThreads } from '../domain/worker-view';
import type { WorkerAggregate } from '../domain/worker-state';
import { ReportScreen, SCREEN_FULL, SCREEN_INVALID, SCREEN_SAME } from './report-screen';

const BOOT = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

function thread(index: number, over: Partial<ThreadInfo> = {}): ThreadInfo {
  return { index, plan: 'sealer', threadState: 'running', elapsedMs: 1_000, state: 'Empty', location: `/s/${index}`, ...over };
}

function report(over: Partial<WorkerReport> = {}): WorkerReport {
  return { name: 'w1', dest: '10.0.0.1:17890', version: '1.0.0', bootId: BOOT, sentAt: '2026-01-02T03:04:04.000Z', threads: [thread(0), thread(1)], transitions: [], ...over };
}

const bytes = (r: unknown) => Buffer.from(typeof r === 'string' ? r : JSON.stringify(r));

describe('ReportScreen', () => {
  it('hands over only the volatile part of a report that repeats the last one', () => {
    const s = new ReportScreen();
    const first = s.screen([bytes(report())]);
    expect([first.kinds[0], first.seqs[0], first.names[0]]).toEqual([SCREEN_FULL, 1, 'w1']);
    const again = s.screen([
      bytes(report({ sentAt: '2026-01-02T03:04:05.000Z', threads: [thread(0, { elapsedMs: 2_000, threadState: 'waiting' }), thread(1, { elapsedMs: 3_000 })] })),
      bytes(report({ threads: [thread(0, { elapsedMs: 2_500, stage: 'PC1' }), thread(1, { lastError: 'temporary: x' })] })),
    ]);
    expect([...again.kinds]).toEqual([SCREEN_SAME, SCREEN_SAME]);
    expect([...again.seqs]).toEqual([2, 3]);
    expect([...again.sameAs]).toEqual([1, 2]);
    expect([...again.offsets]).toEqual([0, 2, 4]);
    expect([...again.runStates]).toEqual([THREAD_RUN_STATES.indexOf('waiting'), THREAD_RUN_STATES.indexOf('running'), THREAD_RUN_STATES.indexOf('running'), THREAD_RUN_STATES.indexOf('running')]);
    expect([...again.elapsed]).toEqual([2_000, 3_000, 2_500, 1_000]);
    expect(again.texts[0]).toBeUndefined(); // stage and last error as in the report before
    expect(again.texts[1]).toEqual(['PC1', undefined, undefined, 'temporary: x']);
  });

  it('sends in full a report with transitions or a change of anything the registry records', () => {
    const changes: Partial<WorkerReport>[] = [
      { transitions: [{ seq: 1, index: 0, plan: 'sealer', prev: 'Empty', next: 'Allocated', at: '2026-01-02T03:04:03.000Z' }] },
      { dest: '10.0.0.2:17890' },
      { version: '1.0.1' },
      { bootId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c' },
      { threads: [thread(0)] },
      { threads: [thread(1), thread(0)] },
      { threads: [thread(0, { state: 'Allocated' }), thread(1)] },
      { threads: [thread(0, { sectorId: 's-1' }), thread(1)] },
      { threads: [thread(0, { location: '/elsewhere' }), thread(1)] },
      { threads: [thread(0, { threadState: 'paused' }), thread(1)] },
      { threads: [thread(0), thread(1, { plan: 'snapup' })] },
    ];
    for (const change of changes) {
      const s = new ReportScreen();
      s.screen([bytes(report())]);
      const b = s.screen([bytes(report(change))]);
      expect({ change, kind: b.kinds[0] }).toEqual({ change, kind: SCREEN_FULL });
      expect(b.seqs[0]).toBe(2);
      // ... and the one after it is compared with it
      expect(s.screen([bytes(report({ ...change, transitions: [] }))]).kinds[0]).toBe(SCREEN_SAME);
    }
  });

  it('refuses invalid reports with the reason the registry dead-letters, without counting them', () => {
    const s = new ReportScreen();
    const b = s.screen([
      bytes('{nope'),
      bytes({ name: 'w9', dest: 1 }),
      bytes(report({ threads: [thread(0), thread(0)] })),
      bytes(report({ threads: [thread(0, { state: 'NotAState' })] })),
      bytes(report()),
    ]);
    expect([...b.kinds]).toEqual([SCREEN_INVALID, SCREEN_INVALID, SCREEN_INVALID, SCREEN_INVALID, SCREEN_FULL]);
    expect(b.reasons[0]).toMatch(/^report is not valid JSON: /);
    expect(b.reasons[1]).toMatch(/^report at \//);
    expect(b.names[1]).toBe('w9');
    expect(b.reasons[2]).toBe('thread index 0 appears twice in threads');
    expect(b.reasons[3]).toMatch(/state "NotAState" is not a state of plan sealer/);
    expect([...b.seqs]).toEqual([0, 0, 0, 0, 1]);
    // the schema's refusal text is the one CommandBus-style validation gives (ReportIntake without the thread)
    for (const raw of [{ name: 'w9', dest: 1 }, { ...report(), threads: [{ index: -1 }] }, 'x']) {
      const one = new ReportScreen().screen([bytes(JSON.stringify(raw))]);
      expect(one.reasons[0]).toBe(validationError(WorkerReportCommand.request, raw, 'report'));
    }
    expect(s.size).toBe(1);
  });

  it('says `same` only where decideReport, given the state the last report left, appends nothing and answers the same acceptedSeq', () => {
    const clock = new ManualClock();
    const sim = new SimulatedWorker({ threads: 8, stepMs: 3_000, seed: 7, clock, temporaryErrorRate: 0.1, permanentErrorRate: 0.02 });
    const pending: WorkerReport['transitions'] = [];
    let seq = 0;
    sim.onTransition((t) => {
      pending.push({ seq: ++seq, index: t.index, plan: t.plan, location: t.location, prev: t.prev, next: t.next, event: t.event, at: new Date(t.at).toISOString(), ...(t.sectorId !== undefined ? { sectorId: t.sectorId } : {}), ...(t.failure ? { failure: t.failure } : {}) });
    });
    const s = new ReportScreen();
    let state: WorkerAggregate | undefined;
    let lastAccepted = 0;
    const reported = new ReportedThreads();
    let same = 0;
    for (let i = 0; i < 400; i++) {
      clock.advance(500);
      const r: WorkerReport = { name: 'sim', dest: 'd:1', version: '1', bootId: BOOT, sentAt: new Date(clock.now()).toISOString(), threads: sim.threadInfos(), transitions: pending.splice(0) };
      const b = s.screen([bytes(r)]);
      const d = decideReport(state, r, { nowMs: clock.now() });
      if (b.kinds[0] === SCREEN_SAME) {
        same++;
        expect(d.events).toEqual([]);
        expect(d.acceptedSeq).toBe(lastAccepted);
        reported.updateVolatile(b.runStates, b.elapsed, b.texts[0], clock.now());
        const expected = ReportedThreads.of(r.threads, clock.now());
        for (let k = 0; k < r.threads.length; k++) {
          expect([reported.runState(k), reported.elapsedMs(k), reported.stage(k), reported.lastError(k)]).toEqual([
            expected.runState(k),
            expected.elapsedMs(k),
            expected.stage(k),
            expected.lastError(k),
          ]);
        }
      } else {
        expect(b.kinds[0]).toBe(SCREEN_FULL);
        reported.update(r.threads, clock.now());
      }
      state = d.next;
      lastAccepted = d.acceptedSeq;
    }
    expect(same).toBeGreaterThan(100);
    expect(same).toBeLessThan(400);
  });
});
