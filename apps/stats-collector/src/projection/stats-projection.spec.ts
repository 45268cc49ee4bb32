import { describe, expect, it } from 'vitest';
import { batchEventId } from '../domain/batch-id';
import { foldMinutes, minuteOf } from './stats-projection';
import { batch, record } from '../../test/batches';

const T = Date.parse('2026-12-07T10:00:00.000Z');

describe('foldMinutes', () => {
  it('sums records of every batch by minute, caller, component and method, whatever the order', () => {
    const batches = [
      batch('a', T + 10_000, [record('c1', 'venus', 'M', 3, 1, 2), record('c2', 'venus', 'M', 1)]),
      batch('b', T + 60_000, [record('c1', 'venus', 'M', 4)]),
      batch('a', T, [record('c1', 'venus', 'M', 5, 0, 2)]),
    ];
    const rows = foldMinutes(batches);
    const view = rows.bucket.map((b, i) => [b.toISOString(), rows.caller[i], rows.method[i], rows.sums[0]![i], rows.sums[1]![i], rows.sums[3 + 2]![i]]);
    expect(view).toEqual([
      ['2026-12-07T10:00:00.000Z', 'c1', 'M', 8, 1, 8],
      ['2026-12-07T10:00:00.000Z', 'c2', 'M', 1, 0, 0],
      ['2026-12-07T10:01:00.000Z', 'c1', 'M', 4, 0, 0],
    ]);
    const reversed = foldMinutes([...batches].reverse());
    expect(new Set(reversed.sums[0])).toEqual(new Set(rows.sums[0]));
  });

  it('counts a window in the minute it starts in', () => {
    expect(new Date(minuteOf('2026-12-07T10:00:50.000Z')).toISOString()).toBe('2026-12-07T10:00:00.000Z');
  });
});

describe('batchEventId', () => {
  it('is the same for the same source, window and part, and differs otherwise', () => {
    const b = batch('meter-1', T, []);
    expect(batchEventId(b)).toBe(batchEventId({ ...b, windowStart: '2026-12-07T11:00:00+01:00' }));
    expect(batchEventId(b)).not.toBe(batchEventId({ ...b, part: 1 }));
    expect(batchEventId(b)).not.toBe(batchEventId({ ...b, source: 'meter-2' }));
    expect(batchEventId(b)).not.toBe(batchEventId({ ...b, windowSeconds: 20 }));
    expect(batchEventId(b)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
