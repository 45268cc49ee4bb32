import { describe, expect, it } from 'vitest';
import { TransitionOutbox, type NewTransition } from './transition-outbox';

const tr = (index: number, next = 'Allocated'): NewTransition => ({ index, plan: 'sealer', prev: 'Empty', next, at: '2025-01-01T00:00:00.000Z' });

describe('TransitionOutbox', () => {
  it('numbers transitions 1, 2, 3 … for one boot and keeps them until acknowledged', () => {
    const o = new TransitionOutbox({ bootId: '0190d6a0-0000-7000-8000-000000000001' });
    expect([o.add(tr(0)).seq, o.add(tr(1)).seq, o.add(tr(2)).seq]).toEqual([1, 2, 3]);
    expect(o.pending().map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(o.pending(2).map((t) => t.seq)).toEqual([1, 2]);
    expect(o.ack(2)).toBe(2);
    expect(o.pending().map((t) => t.seq)).toEqual([3]);
    expect(o.ack(2)).toBe(0);
    expect(o.add(tr(3)).seq).toBe(4);
    expect(o.ack(10)).toBe(2);
    expect(o.size).toBe(0);
    expect(o.lastSeq).toBe(4);
  });

  it('gives every boot its own id', () => {
    expect(new TransitionOutbox().bootId).not.toBe(new TransitionOutbox().bootId);
    expect(new TransitionOutbox().bootId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is bounded: beyond maxPending the oldest are dropped and counted', () => {
    const o = new TransitionOutbox({ maxPending: 3 });
    for (let i = 0; i < 5; i++) o.add(tr(i));
    expect(o.pending().map((t) => t.seq)).toEqual([3, 4, 5]);
    expect(o.dropped).toBe(2);
  });

  it('stays correct across internal compaction', () => {
    const o = new TransitionOutbox({ maxPending: 100_000 });
    for (let i = 0; i < 5000; i++) o.add(tr(i % 16));
    expect(o.ack(4000)).toBe(4000);
    expect(o.pending(3).map((t) => t.seq)).toEqual([4001, 4002, 4003]);
    expect(o.size).toBe(1000);
  });
});
