import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '@fleetvisor/contracts';
import type { AppendResult, StreamAppend } from '@fleetvisor/event-store';
import { waitFor } from '@fleetvisor/testing';
import { GroupAppender, type GroupAppendStore } from './group-appender';

const ev = (stream: string, n: number): EventEnvelope =>
  ({ id: `${stream}-${n}`, type: 'Pinged', stream, version: 1, data: { n }, metadata: {}, occurredAt: '2026-01-01T00:00:00.000Z' }) as EventEnvelope;

/** A store stand-in that records calls; `refuse` makes a group call fail whole, and single appends of those streams fail. */
class RecordingStore implements GroupAppendStore {
  readonly groups: string[][] = [];
  readonly singles: string[] = [];
  readonly versions = new Map<string, number>();
  refuse = new Set<string>();
  inFlight = 0;
  maxInFlight = 0;
  release: (() => void)[] = [];
  hold = false;

  private async pause(): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.hold) await new Promise<void>((r) => this.release.push(r));
    else await Promise.resolve();
    this.inFlight--;
  }

  private apply(stream: string, events: readonly EventEnvelope[]): AppendResult {
    const v = (this.versions.get(stream) ?? 0) + events.length;
    this.versions.set(stream, v);
    return { nextExpectedVersion: v, appended: events.length };
  }

  async appendToStream(stream: string, events: readonly EventEnvelope[]): Promise<AppendResult> {
    this.singles.push(stream);
    await this.pause();
    if (this.refuse.has(stream)) throw new Error(`refused ${stream}`);
    return this.apply(stream, events);
  }

  async appendToStreams(batches: readonly StreamAppend[]): Promise<AppendResult[]> {
    this.groups.push(batches.map((b) => b.stream));
    await this.pause();
    if (batches.some((b) => this.refuse.has(b.stream))) throw new Error('group refused');
    return batches.map((b) => this.apply(b.stream, b.events));
  }
}

describe('GroupAppender', () => {
  it('sends appends arriving together as one group call and gives each caller its own result', async () => {
    const store = new RecordingStore();
    const g = new GroupAppender(store, { maxWaitMs: 5 });
    const results = await Promise.all(['a', 'b', 'c'].map((s, i) => g.append(s, [ev(s, 1), ...(i === 2 ? [ev(s, 2)] : [])])));
    expect(store.groups).toEqual([['a', 'b', 'c']]);
    expect(store.singles).toEqual([]);
    expect(results.map((r) => r.nextExpectedVersion)).toEqual([1, 1, 2]);
    expect(g.stats).toMatchObject({ groups: 1, appends: 3, splits: 0 });
  });

  it('closes a group at maxBatch', async () => {
    const store = new RecordingStore();
    const g = new GroupAppender(store, { maxWaitMs: 1_000, maxBatch: 2 });
    await Promise.all(['a', 'b', 'c', 'd'].map((s) => g.append(s, [ev(s, 1)])));
    expect(store.groups).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });

  it('never puts two appends of one stream in one call: the second waits for the first to commit', async () => {
    const store = new RecordingStore();
    store.hold = true;
    const g = new GroupAppender(store, { maxWaitMs: 1 });
    const all = Promise.all([g.append('a', [ev('a', 1)]), g.append('b', [ev('b', 1)]), g.append('a', [ev('a', 2)])]);
    await waitFor(() => store.release.length === 1);
    expect(store.groups).toEqual([['a', 'b']]);
    expect(store.singles).toEqual([]);
    store.release.shift()!();
    await waitFor(() => store.release.length === 1);
    expect(store.singles).toEqual(['a']);
    store.release.shift()!();
    const [a1, b, a2] = await all;
    expect([a1!.nextExpectedVersion, b!.nextExpectedVersion, a2!.nextExpectedVersion]).toEqual([1, 1, 2]);
  });

  it('retries a refused group one append at a time: only the bad stream fails', async () => {
    const store = new RecordingStore();
    store.refuse.add('bad');
    const g = new GroupAppender(store, { maxWaitMs: 5 });
    const outcomes = await Promise.allSettled(['a', 'bad', 'c'].map((s) => g.append(s, [ev(s, 1)])));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('refused bad'));
    expect(store.singles.sort()).toEqual(['a', 'bad', 'c']);
    expect(g.stats.splits).toBe(1);
  });

  it('has at most maxInFlight calls committing; the rest wait and go together', async () => {
    const store = new RecordingStore();
    store.hold = true;
    const g = new GroupAppender(store, { maxWaitMs: 1, maxBatch: 1, maxInFlight: 2 });
    let done = false;
    const all = Promise.all(['a', 'b', 'c', 'd', 'e'].map((s) => g.append(s, [ev(s, 1)]))).finally(() => (done = true));
    await waitFor(() => store.release.length === 2);
    expect(store.inFlight).toBe(2);
    while (!done) {
      for (const r of store.release.splice(0)) r();
      await waitFor(() => done || store.release.length > 0, { intervalMs: 1 });
    }
    await all;
    expect(store.maxInFlight).toBe(2);
    await g.idle();
  });
});
