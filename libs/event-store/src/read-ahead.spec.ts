import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '@fleetvisor/contracts';
import { ReadAhead } from './read-ahead';
import type { ReadAllResult } from './types';

const batch = (n: number, checkpoint = '1:9'): ReadAllResult => ({ events: Array.from({ length: n }, () => ({}) as RecordedEvent), checkpoint });

describe('ReadAhead', () => {
  it('serves a full prefetched batch once, for the same checkpoint, limit and types', async () => {
    const ra = new ReadAhead();
    let reads = 0;
    ra.start(ReadAhead.key('1:5', 3, ['A']), 3, async () => (reads++, batch(3)));
    ra.start(ReadAhead.key('1:5', 3, ['A']), 3, async () => (reads++, batch(3))); // already under way
    expect(await ra.take(ReadAhead.key('1:5', 3, undefined))).toBeUndefined();
    expect(await ra.take(ReadAhead.key('1:5', 4, ['A']))).toBeUndefined();
    expect(await ra.take(ReadAhead.key('1:5', 3, ['A']))).toEqual(batch(3));
    expect(await ra.take(ReadAhead.key('1:5', 3, ['A']))).toBeUndefined();
    expect(reads).toBe(1);
  });

  it('drops a short batch: newer commits may have followed it, a fresh read must decide', async () => {
    const ra = new ReadAhead();
    ra.start('k', 3, async () => batch(2));
    expect(await ra.take('k')).toBeUndefined();
  });

  it('drops a failed prefetch without an unhandled rejection', async () => {
    const ra = new ReadAhead();
    ra.start('k', 3, async () => {
      throw new Error('connection lost');
    });
    expect(await ra.take('k')).toBeUndefined();
  });

  it('keeps at most a few readers pending, forgetting the oldest', async () => {
    const ra = new ReadAhead();
    for (let i = 0; i < 9; i++) ra.start(`k${i}`, 1, async () => batch(1));
    expect(await ra.take('k0')).toBeUndefined();
    expect(await ra.take('k8')).toEqual(batch(1));
  });
});
