import { describe, expect, it } from 'vitest';
import { AppendCombiner, type CombinableAppend } from './append-combiner';

interface A extends CombinableAppend {
  id: string;
}

/** A fake database: every call waits until the test releases it. */
function harness(opts: { maxInFlight?: number; maxEvents?: number; maxAppends?: number } = {}) {
  const calls: { kind: 'one' | 'group'; ids: string[]; release(fail?: unknown): void }[] = [];
  const combiner = new AppendCombiner<A, string>({
    maxInFlight: opts.maxInFlight ?? 1,
    maxEvents: opts.maxEvents ?? 1_000,
    maxAppends: opts.maxAppends ?? 100,
    maxGroupAttempts: 3,
    isTransient: (e) => e === 'race',
    sendOne: (a) =>
      new Promise<string>((resolve, reject) => {
        calls.push({ kind: 'one', ids: [a.id], release: (fail) => (fail === undefined ? resolve(`ok:${a.id}`) : reject(fail)) });
      }),
    sendGroup: (as) =>
      new Promise<string[]>((resolve, reject) => {
        calls.push({ kind: 'group', ids: as.map((a) => a.id), release: (fail) => (fail === undefined ? resolve(as.map((a) => `ok:${a.id}`)) : reject(fail)) });
      }),
  });
  const append = (id: string, stream = id, count = 1): A => ({ id, stream, count });
  /** Resolves when the fake has received `n` calls in all. */
  const callsReach = async (n: number) => {
    for (let i = 0; i < 1_000 && calls.length < n; i++) await new Promise((r) => setImmediate(r));
    expect(calls.length).toBe(n);
  };
  return { combiner, calls, append, callsReach };
}

describe('AppendCombiner', () => {
  it('sends a lone append at once, on its own', async () => {
    const { combiner, calls, append } = harness();
    const p = combiner.submit(append('a'));
    expect(calls.map((c) => [c.kind, c.ids])).toEqual([['one', ['a']]]);
    calls[0]!.release();
    await expect(p).resolves.toBe('ok:a');
    expect(combiner.stats).toEqual({ appends: 1, groups: 0, grouped: 0, split: 0, sends: 1, sendMs: expect.any(Number) });
  });

  it('groups the appends that wait for a free slot and gives each its own result', async () => {
    const { combiner, calls, append, callsReach } = harness({ maxInFlight: 1 });
    const first = combiner.submit(append('a'));
    const waiting = ['b', 'c', 'd'].map((id) => combiner.submit(append(id)));
    expect(calls).toHaveLength(1);
    expect(combiner.waiting).toBe(3);
    calls[0]!.release();
    await expect(first).resolves.toBe('ok:a');
    await callsReach(2);
    expect(calls[1]!.kind).toBe('group');
    expect(calls[1]!.ids).toEqual(['b', 'c', 'd']);
    calls[1]!.release();
    await expect(Promise.all(waiting)).resolves.toEqual(['ok:b', 'ok:c', 'ok:d']);
    expect(combiner.stats).toMatchObject({ groups: 1, grouped: 3 });
  });

  it('never puts two appends of one stream in a group, and keeps their order', async () => {
    const { combiner, calls, append, callsReach } = harness({ maxInFlight: 1 });
    void combiner.submit(append('a'));
    const x1 = combiner.submit(append('x1', 'x'));
    const y = combiner.submit(append('y'));
    const x2 = combiner.submit(append('x2', 'x'));
    calls[0]!.release();
    await callsReach(2);
    expect(calls[1]!.ids).toEqual(['x1', 'y']);
    calls[1]!.release();
    await Promise.all([x1, y]);
    await callsReach(3);
    expect(calls[2]!.ids).toEqual(['x2']);
    calls[2]!.release();
    await expect(x2).resolves.toBe('ok:x2');
  });

  it('never has two appends of one stream in flight: the second waits for the first to settle, even with a free slot', async () => {
    const { combiner, calls, append, callsReach } = harness({ maxInFlight: 2 });
    const x1 = combiner.submit(append('x1', 'x'));
    const x2 = combiner.submit(append('x2', 'x'));
    const y = combiner.submit(append('y'));
    // Slot two takes y, which came after x2: x2 waits for x1 rather than racing it.
    expect(calls.map((c) => c.ids)).toEqual([['x1'], ['y']]);
    expect(combiner.waiting).toBe(1);
    calls[1]!.release();
    await expect(y).resolves.toBe('ok:y');
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(2);
    calls[0]!.release();
    await expect(x1).resolves.toBe('ok:x1');
    await callsReach(3);
    expect(calls[2]!.ids).toEqual(['x2']);
    calls[2]!.release();
    await expect(x2).resolves.toBe('ok:x2');
    expect(combiner.stats).toMatchObject({ appends: 3, sends: 3 });
  });

  it('keeps a group under maxEvents and maxAppends (a larger single append still goes, alone)', async () => {
    const { combiner, calls, append, callsReach } = harness({ maxInFlight: 1, maxEvents: 10, maxAppends: 2 });
    void combiner.submit(append('a'));
    const ps = [combiner.submit(append('big', 'big', 50)), combiner.submit(append('b', 'b', 6)), combiner.submit(append('c', 'c', 6)), combiner.submit(append('d', 'd', 3))];
    calls[0]!.release();
    await callsReach(2);
    expect(calls[1]!.ids).toEqual(['big']);
    calls[1]!.release();
    await callsReach(3);
    // b (6) + c (6) would pass 10 events: b goes with d.
    expect(calls[2]!.ids).toEqual(['b', 'd']);
    calls[2]!.release();
    await callsReach(4);
    expect(calls[3]!.ids).toEqual(['c']);
    calls[3]!.release();
    await expect(Promise.all(ps)).resolves.toEqual(['ok:big', 'ok:b', 'ok:c', 'ok:d']);
  });

  it('retries a group whole on a transient race', async () => {
    const { combiner, calls, append, callsReach } = harness({ maxInFlight: 1 });
    void combiner.submit(append('a'));
    const ps = [combiner.submit(append('b')), combiner.submit(append('c'))];
    calls[0]!.release();
    await callsReach(2);
    calls[1]!.release('race');
    await callsReach(3);
    expect(calls[2]!.kind).toBe('group');
    expect(calls[2]!.ids).toEqual(['b', 'c']);
    calls[2]!.release();
    await expect(Promise.all(ps)).resolves.toEqual(['ok:b', 'ok:c']);
  });

  it('splits a failed group: each member is sent alone and only the one refused fails', async () => {
    const { combiner, calls, append, callsReach } = harness({ maxInFlight: 1 });
    void combiner.submit(append('a'));
    const b = combiner.submit(append('b'));
    const c = combiner.submit(append('c'));
    const d = combiner.submit(append('d'));
    calls[0]!.release();
    await callsReach(2);
    calls[1]!.release(new Error('wrong expected version of c'));
    await callsReach(5);
    expect(calls.slice(2).map((x) => [x.kind, x.ids[0]])).toEqual([
      ['one', 'b'],
      ['one', 'c'],
      ['one', 'd'],
    ]);
    calls[2]!.release();
    calls[3]!.release(new Error('c refused'));
    calls[4]!.release();
    await expect(b).resolves.toBe('ok:b');
    await expect(c).rejects.toThrow('c refused');
    await expect(d).resolves.toBe('ok:d');
    expect(combiner.stats.split).toBe(1);
  });

  it('runs up to maxInFlight sends at once', async () => {
    const { combiner, calls, append } = harness({ maxInFlight: 3 });
    for (const id of ['a', 'b', 'c', 'd']) void combiner.submit(append(id));
    expect(calls.map((c) => c.ids[0])).toEqual(['a', 'b', 'c']);
    expect(combiner.waiting).toBe(1);
  });

  it('refuses a nonsensical configuration', () => {
    const base = { maxEvents: 1, maxAppends: 1, maxGroupAttempts: 1, isTransient: () => false, sendOne: async () => 1, sendGroup: async () => [1] };
    expect(() => new AppendCombiner({ ...base, maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => new AppendCombiner({ ...base, maxInFlight: 1, maxAppends: 0 })).toThrow(/maxAppends/);
  });
});
