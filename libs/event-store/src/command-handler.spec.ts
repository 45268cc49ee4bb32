import { describe, expect, it } from 'vitest';
import type { EventEnvelope, RecordedEvent } from '@fleetvisor/contracts';
import { CommandConflictError, handleCommand, type CommandHandlerStore } from './command-handler';
import { WrongExpectedVersionError } from './errors';
import { expectedVersionMatches } from './expected-version';
import type { AppendOptions, AppendResult, ReadStreamResult } from './types';
import { pinged } from '../test/test-events';

/** An in-memory stream with the store's expected-version and idempotency rules; `interfere` appends as another writer before an append. */
class MemoryStore implements CommandHandlerStore {
  readonly events: EventEnvelope[] = [];
  reads = 0;
  readonly appends: AppendOptions[] = [];
  interfere: (() => void)[] = [];

  async readStream(): Promise<ReadStreamResult> {
    this.reads++;
    const events = this.events.map((e, i) => ({ ...e, streamVersion: i + 1, globalPosition: String(i + 1), checkpoint: `1:${i + 1}` }) as RecordedEvent);
    return { events, currentVersion: this.events.length };
  }

  async appendToStream(stream: string, events: readonly EventEnvelope[], opts: AppendOptions = {}): Promise<AppendResult> {
    this.appends.push(opts);
    this.interfere.shift()?.();
    const fresh = events.filter((e) => !this.events.some((x) => x.id === e.id));
    if (fresh.length === 0) return { nextExpectedVersion: this.events.length, appended: 0 };
    const expected = opts.expectedVersion ?? 'any';
    if (!expectedVersionMatches(expected, this.events.length)) throw new WrongExpectedVersionError(stream, expected, this.events.length);
    this.events.push(...fresh);
    return { nextExpectedVersion: this.events.length, appended: fresh.length };
  }
}

/** State: the sum of the pings' n. */
const sum = { initialState: () => 0, evolve: (s: number, e: EventEnvelope) => s + (e.data as { n: number }).n };
const S = 'host-h1';

describe('handleCommand', () => {
  it('reads the stream, folds it, decides on the state and appends at the version read', async () => {
    const store = new MemoryStore();
    store.events.push(pinged(S, 2), pinged(S, 3));
    const seen: [number, number][] = [];
    const r = await handleCommand(store, S, (state, ctx) => (seen.push([state, ctx.version]), [pinged(S, 10)]), sum);
    expect(seen).toEqual([[5, 2]]);
    expect(store.appends).toEqual([{ expectedVersion: 2 }]);
    expect(r).toMatchObject({ state: 15, version: 3, appended: 1, attempts: 1, reread: false });
  });

  it('appends to a new stream expecting no stream, and appends nothing when decide returns nothing', async () => {
    const store = new MemoryStore();
    expect(await handleCommand(store, S, () => [], sum)).toMatchObject({ state: 0, version: 0, appended: 0, attempts: 1 });
    expect(store.appends).toEqual([]);
    await handleCommand(store, S, () => [pinged(S, 1)], sum);
    expect(store.appends).toEqual([{ expectedVersion: 'no_stream' }]);
  });

  it('on a conflict reads the stream again and decides on what another writer appended', async () => {
    const store = new MemoryStore();
    store.interfere.push(() => store.events.push(pinged(S, 100)));
    const states: number[] = [];
    const conflicts: number[] = [];
    const r = await handleCommand(store, S, (state) => (states.push(state), state >= 100 ? [] : [pinged(S, 1)]), { ...sum, onConflict: (e) => conflicts.push(e.actual) });
    // The second decision sees the other writer's event and decides nothing.
    expect(states).toEqual([0, 100]);
    expect(conflicts).toEqual([1]);
    expect(r).toMatchObject({ state: 100, version: 1, appended: 0, attempts: 2 });
    expect(store.events.map((e) => (e.data as { n: number }).n)).toEqual([100]);
  });

  it('starts from a known state without reading; a stale one costs a read and a retry, never a wrong append', async () => {
    const store = new MemoryStore();
    store.events.push(pinged(S, 7));
    const fresh = await handleCommand(store, S, () => [pinged(S, 1)], { ...sum, known: { state: 7, version: 1 } });
    expect(store.reads).toBe(0);
    expect(fresh).toMatchObject({ state: 8, version: 2 });
    const stale = await handleCommand(store, S, (s) => [pinged(S, s)], { ...sum, known: { state: 7, version: 1 } });
    expect(store.reads).toBe(1);
    expect(store.appends.slice(1)).toEqual([{ expectedVersion: 1 }, { expectedVersion: 2 }]);
    expect(stale).toMatchObject({ state: 16, version: 3, attempts: 2 });
  });

  it('takes the state decide folded itself, without folding the events again', async () => {
    const store = new MemoryStore();
    const r = await handleCommand(store, S, () => ({ events: [pinged(S, 5)], state: 42 }), sum);
    expect(r).toMatchObject({ state: 42, version: 1 });
  });

  it('re-reads the state from the log when some events were stored already', async () => {
    const store = new MemoryStore();
    const a = pinged(S, 1);
    store.events.push(a);
    const r = await handleCommand(store, S, () => [a, pinged(S, 4)], { ...sum, known: { state: 1, version: 1 } });
    // The known version is 1; the store kept `a` and appended only the new event (exact check aside).
    expect(r).toMatchObject({ appended: 1, reread: true, state: 5, version: 2 });
  });

  it('gives up after maxAttempts conflicts with an error naming the stream and the last conflict', async () => {
    const store = new MemoryStore();
    store.interfere.push(...Array.from({ length: 3 }, () => () => void store.events.push(pinged(S, 0))));
    const err = await handleCommand(store, S, () => [pinged(S, 1)], { ...sum, maxAttempts: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandConflictError);
    expect((err as CommandConflictError).attempts).toBe(3);
    expect((err as Error).message).toMatch(/stream "host-h1" kept changing .* 3 attempts/);
    expect((err as CommandConflictError).lastConflict.actual).toBe(3);
  });

  it('passes other append errors on at once, without retrying', async () => {
    const store = new MemoryStore();
    store.appendToStream = async () => {
      throw new Error('connection lost');
    };
    let decisions = 0;
    await expect(handleCommand(store, S, () => (decisions++, [pinged(S, 1)]), sum)).rejects.toThrow('connection lost');
    expect(decisions).toBe(1);
  });

  it('refuses a nonsensical maxAttempts', async () => {
    await expect(handleCommand(new MemoryStore(), S, () => [], { ...sum, maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
  });
});
