import { describe, expect, it } from 'vitest';
import { unitRegistry } from '../../test/unit-registry';

describe('WorkerReports', () => {
  it('records a new worker at a new stream, and a report that changes nothing appends nothing', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 2);
    a.move(0, 'Allocated');
    expect(await a.report()).toEqual({ ok: true, result: { appended: 3, acceptedSeq: 1 } });
    // The transition of thread 0, then thread 1 as first seen.
    expect(r.log.types('worker-w-a')).toEqual(['WorkerRegistered', 'ThreadStateChanged', 'ThreadStateChanged']);
    expect(r.live.get('w-a')!.version).toBe(3);
    r.now.ms += 1_000;
    expect(await a.report()).toEqual({ ok: true, result: { appended: 0, acceptedSeq: 1 } });
    expect(r.log.events('worker-w-a')).toHaveLength(3);
    expect(r.live.seen.get('w-a')).toBe(r.now.ms);
    expect(r.log.reads).toBe(0);
  });

  it('a removed worker reporting again: its stream exists, so the first append conflicts, the log is read, and it registers anew', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 1);
    await a.report();
    await r.control.remove({ worker: 'w-a' }, { actor: 'dave', commandId: '0190b6e0-0000-7000-8000-0000000000aa', signedAt: Date.now() });
    a.reboot();
    expect(await a.report()).toMatchObject({ ok: true, result: { appended: 2 } });
    expect(r.log.types('worker-w-a')).toEqual(['WorkerRegistered', 'ThreadStateChanged', 'WorkerRemoved', 'WorkerRegistered', 'ThreadStateChanged']);
    expect(r.log.reads).toBe(1);
    expect(r.live.get('w-a')!.version).toBe(5);
  });

  it('a report handled again after its events were stored takes the state from the log', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 1);
    a.move(0, 'Allocated');
    const report = a.buildReport();
    await r.reports.report(report);
    // As if the registry had restarted from a projection without these events: same ids again.
    const live = r.live.get('w-a')!;
    r.live.delete('w-a');
    expect(await r.reports.report(report)).toMatchObject({ appended: 0, acceptedSeq: 1 });
    expect(r.live.get('w-a')!.agg).toEqual(live.agg);
    expect(r.live.get('w-a')!.version).toBe(2);
  });
});
