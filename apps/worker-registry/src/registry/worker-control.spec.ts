import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { unitRegistry } from '../../test/unit-registry';
import type { CommandOrigin } from './worker-control';

/** A command as the bus hands it over once the signature is verified. */
const by = (actor = 'alice'): CommandOrigin => ({ actor, commandId: randomUUID(), signedAt: Date.now() });

/** The failure of a call (thrown at once, as a lookup does, or rejected). */
const err = async (call: () => Promise<unknown>): Promise<{ code: string; message: string } | undefined> => {
  try {
    await call();
    return undefined;
  } catch (e) {
    return e as { code: string; message: string };
  }
};

describe('WorkerControl', () => {
  it('pause asks the agent, then records ThreadPaused with the actor; a second pause records nothing', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 2);
    await a.report();
    expect(await r.control.pause({ worker: 'w-a', index: 1 }, by('alice'))).toEqual({ worker: 'w-a', index: 1, changed: true });
    expect(a.calls).toEqual(['pause:1']);
    const last = r.log.events('worker-w-a').at(-1)!;
    expect(last).toMatchObject({ type: 'ThreadPaused', data: { worker: 'w-a', index: 1, reason: 'manual', actor: 'alice' }, metadata: { actor: 'alice', host: 'test-host' } });
    expect(r.live.get('w-a')!.agg.threads.get(1)!.paused).toBe(true);
    const count = r.log.events('worker-w-a').length;
    expect(await r.control.pause({ worker: 'w-a', index: 1 }, by())).toMatchObject({ changed: false });
    expect(r.log.events('worker-w-a')).toHaveLength(count);
  });

  it('a report listed before a pause or resume the registry recorded does not undo it; the next report decides', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 2);
    await a.report();
    // On its way while the pause is carried out: it still shows thread #1 running.
    const before = a.buildReport();
    await r.control.pause({ worker: 'w-a', index: 1 }, by('alice'));
    expect((await a.report(before)).ok).toBe(true);
    expect(r.log.types('worker-w-a').filter((t) => t === 'ThreadPaused' || t === 'ThreadResumed')).toEqual(['ThreadPaused']);
    expect(r.live.get('w-a')!.agg.threads.get(1)!.paused).toBe(true);
    expect((await r.queries.info({ worker: 'w-a' })).threads[1]!.threadState).toBe('paused');
    // The same for a resume: a report listed before it still shows the thread paused.
    const paused = a.buildReport();
    await r.control.resume({ worker: 'w-a', index: 1 }, by('bob'));
    await a.report(paused);
    expect(r.log.types('worker-w-a').filter((t) => t === 'ThreadPaused' || t === 'ThreadResumed')).toEqual(['ThreadPaused', 'ThreadResumed']);
    expect(r.live.get('w-a')!.agg.threads.get(1)!.paused).toBe(false);
    // A report listed after the command counts: paused at the worker itself, it is recorded (by the agent).
    a.threads[1]!.paused = true;
    await a.report();
    expect(r.log.events('worker-w-a').at(-1)).toMatchObject({ type: 'ThreadPaused', data: { index: 1, actor: 'worker-agent:w-a' } });
    // So is a report of the agent's next boot, whatever its count.
    a.reboot();
    a.threads[1]!.paused = false;
    await a.report();
    expect(r.log.events('worker-w-a').at(-1)).toMatchObject({ type: 'ThreadResumed', data: { index: 1, actor: 'worker-agent:w-a' } });
  });

  it('an unreachable agent: unavailable, nothing changed or recorded', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 2);
    await a.report();
    r.bus.unreachable.add('w-a');
    const count = r.log.events('worker-w-a').length;
    const e = await err(() => r.control.pause({ worker: 'w-a', index: 0 }, by()));
    expect(e).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/^worker w-a is unreachable: its agent did not answer pause/) });
    expect(r.log.events('worker-w-a')).toHaveLength(count);
    expect(r.live.get('w-a')!.agg.threads.get(0)!.paused).toBe(false);
  });

  it('resume refuses a state outside the plan before asking the agent; by address it resumes and records the state', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 1, '10.9.9.9:1');
    await a.report();
    await r.control.pause({ worker: 'w-a', index: 0 }, by());
    const bad = await err(() => r.control.resume({ worker: 'w-a', index: 0, state: 'SnapEncoded' }, by()));
    expect(bad).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('valid states: Empty, Allocated') });
    expect(a.calls).toEqual(['pause:0']);
    expect(await r.control.resume({ worker: '10.9.9.9:1', index: 0, state: 'Allocated' }, by('bob'))).toEqual({ worker: 'w-a', index: 0, state: 'Allocated', changed: true });
    expect(r.log.events('worker-w-a').at(-1)).toMatchObject({ type: 'ThreadResumed', data: { index: 0, state: 'Allocated', actor: 'bob' } });
    expect(r.live.get('w-a')!.agg.threads.get(0)).toMatchObject({ paused: false, state: 'Allocated' });
  });

  it('names the workers and threads there are for an unknown worker or index', async () => {
    const r = unitRegistry();
    expect(await err(() => r.control.drain({ worker: 'w-x' }, by()))).toMatchObject({ code: 'not_found', message: 'unknown worker "w-x": no workers are registered' });
    const a = await r.agent('w-a', 4);
    await a.report();
    expect(await err(() => r.control.pause({ worker: 'w-a', index: 9 }, by()))).toMatchObject({ code: 'not_found', message: 'worker w-a has no thread #9; threads: 0-3' });
    expect(await err(() => r.control.remove({ worker: 'w-b' }, by()))).toMatchObject({ code: 'not_found', message: expect.stringContaining('workers: w-a') });
  });

  it('drain records WorkerDrainStarted, and WorkerDrainFinished at once when every thread is paused already', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 1);
    a.threads[0]!.paused = true;
    await a.report();
    expect(await r.control.drain({ worker: 'w-a' }, by('carol'))).toEqual({ worker: 'w-a', threads: 1, paused: 1, finished: true });
    expect(r.log.types('worker-w-a').slice(-2)).toEqual(['WorkerDrainStarted', 'WorkerDrainFinished']);
    const count = r.log.events('worker-w-a').length;
    expect(await r.control.drain({ worker: 'w-a' }, by())).toMatchObject({ finished: true });
    expect(r.log.events('worker-w-a')).toHaveLength(count);
  });

  it('remove records WorkerRemoved once and forgets the worker and its pending last-seen time', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 1);
    await a.report();
    expect(r.live.seen.has('w-a')).toBe(true);
    expect(await r.control.remove({ worker: 'w-a' }, by('dave'))).toEqual({ worker: 'w-a', removed: true });
    expect(r.log.types('worker-w-a').at(-1)).toBe('WorkerRemoved');
    expect(r.live.has('w-a')).toBe(false);
    expect(r.live.seen.has('w-a')).toBe(false);
  });

  it('records the command id as the cause and derives event ids from it; the same command again is refused as a replay', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 2);
    await a.report();
    const cmd = by('alice');
    await r.control.pause({ worker: 'w-a', index: 0 }, cmd);
    const paused = r.log.events('worker-w-a').at(-1)!;
    expect(paused).toMatchObject({ type: 'ThreadPaused', metadata: { actor: 'alice', causationId: cmd.commandId } });
    // resumed meanwhile by someone else; the captured pause is sent again through another replica
    await r.control.resume({ worker: 'w-a', index: 0 }, by('bob'));
    const e = await err(() => r.control.pause({ worker: 'w-a', index: 0 }, cmd));
    expect(e).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('already carried out (replay)') });
    expect(a.calls).toEqual(['pause:0', 'resume:0']);
    expect(r.live.get('w-a')!.agg.threads.get(0)!.paused).toBe(false);
  });

  it('decides again on the log when the worker stream moved under it (a command appended elsewhere)', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 2);
    await a.report();
    // Another writer pauses thread 1 behind the registry's back, just before its append.
    r.log.interfere.push(() => void r.log.events('worker-w-a').push({ ...r.log.events('worker-w-a').at(-1)!, id: 'other', type: 'ThreadPaused', data: { worker: 'w-a', index: 1, reason: 'manual', actor: 'eve' } }));
    await r.control.pause({ worker: 'w-a', index: 1 }, by('alice'));
    // The second decision saw the thread paused already: alice's pause was not recorded twice.
    expect(r.log.events('worker-w-a').filter((e) => e.type === 'ThreadPaused').map((e) => (e.data as { actor: string }).actor)).toEqual(['eve']);
    expect(r.live.get('w-a')!.agg.threads.get(1)!.paused).toBe(true);
    expect(r.live.get('w-a')!.version).toBe(r.log.events('worker-w-a').length);
  });
});
