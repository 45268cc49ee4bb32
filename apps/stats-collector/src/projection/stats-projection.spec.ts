import { describe, expect, it } from 'vitest';
import { batchEventId } from '../domain/batch-id';
import { resolutionFilter, VIEWS } from './rollup-sql';
import { foldRollups, minuteOf, minuteRowsOf } from './stats-projection';
import { batch, record } from '../../test/batches';

const T = Date.parse('2026-12-07T10:00:00.000Z');

describe('foldRollups', () => {
  it('sums records of every batch by minute, caller, component and method, whatever the order', () => {
    const batches = [
      batch('a', T + 10_000, [record('c1', 'venus', 'M', 3, 1, 2), record('c2', 'venus', 'M', 1)]),
      batch('b', T + 60_000, [record('c1', 'venus', 'M', 4)]),
      batch('a', T, [record('c1', 'venus', 'M', 5, 0, 2)]),
    ];
    const rows = minuteRowsOf(foldRollups(batches));
    const view = rows.caller.map((c, i) => [c, rows.method[i], rows.sums[0]![i], rows.sums[1]![i], rows.sums[3 + 2]![i]]);
    expect(view).toEqual([
      ['c1', 'M', 8, 1, 8],
      ['c2', 'M', 1, 0, 0],
      ['c1', 'M', 4, 0, 0],
    ]);
  });

  it('counts each record once in each view at each resolution, the dropped dimension as ""', () => {
    const rows = foldRollups([batch('a', T + 70_000, [record('c1', 'venus', 'M1', 3), record('c1', 'venus', 'M2', 4), record('c2', 'venus', 'M1', 5)])]);
    const total = (view: number, res: number) => rows.view.reduce((n, v, i) => n + (v === view && rows.res[i] === res ? rows.sums[0]![i]! : 0), 0);
    for (const view of Object.values(VIEWS)) for (const res of [60, 600, 3600]) expect(total(view, res), `view ${view} res ${res}`).toBe(12);
    const keys = (view: number) => rows.view.flatMap((v, i) => (v === view && rows.res[i] === 3600 ? [[rows.caller[i], rows.component[i], rows.method[i], rows.sums[0]![i]]] : []));
    expect(keys(VIEWS.callerComponent)).toEqual([
      ['c1', 'venus', '', 7],
      ['c2', 'venus', '', 5],
    ]);
    expect(keys(VIEWS.componentMethod)).toEqual([
      ['', 'venus', 'M1', 8],
      ['', 'venus', 'M2', 4],
    ]);
    // Buckets of each resolution start where theirs do.
    expect(new Set(rows.bucket.filter((_, i) => rows.res[i] === 60).map((d) => d.toISOString()))).toEqual(new Set(['2026-12-07T10:01:00.000Z']));
    expect(new Set(rows.bucket.filter((_, i) => rows.res[i] === 600).map((d) => d.toISOString()))).toEqual(new Set(['2026-12-07T10:00:00.000Z']));
  });

  it('counts a window in the minute it starts in', () => {
    expect(new Date(minuteOf('2026-12-07T10:00:50.000Z')).toISOString()).toBe('2026-12-07T10:00:00.000Z');
  });
});

describe('resolutionFilter', () => {
  it('takes each resolution from its cut up to the finer one\'s cut (no cut stored: the finest everywhere)', () => {
    const cut = (r: number) => `coalesce((SELECT cut FROM fv_stats_cuts WHERE res = ${r}), '-infinity'::timestamptz)`;
    expect(resolutionFilter(60)).toBe(`((res = 60 AND bucket >= ${cut(60)}) OR (res = 600 AND bucket >= ${cut(600)} AND bucket < ${cut(60)}) OR (res = 3600 AND bucket < ${cut(600)}))`);
    expect(resolutionFilter(3600)).toBe('((res = 3600))');
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
