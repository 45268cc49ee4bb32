import { describe, expect, it } from 'vitest';
import type { StatsSeries } from '@fleetvisor/contracts';
import { compact, fitPoints, parseRange, parseStep, renderChart, totalsTable } from './stats-common';

const NOW = Date.parse('2026-12-07T12:00:00.000Z');

function series(key: string, points: number[]): StatsSeries {
  return { key, points, calls: points.reduce((a, b) => a + b, 0), errors: 0, transportErrors: 0, p50Ms: 10, p99Ms: 250 };
}

describe('stats range options', () => {
  it('--since counts back from --to or now; --from/--to are times', () => {
    expect(parseRange({}, NOW)).toEqual({ from: '2026-12-07T06:00:00.000Z', to: '2026-12-07T12:00:00.000Z' });
    expect(parseRange({ since: '30m' }, NOW).from).toBe('2026-12-07T11:30:00.000Z');
    expect(parseRange({ from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' }, NOW)).toEqual({ from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z' });
  });

  it('refuses both --since and --from, bad times and an empty range', () => {
    expect(() => parseRange({ since: '1h', from: '2026-12-01T00:00:00Z' }, NOW)).toThrow(/--since or --from/);
    expect(() => parseRange({ from: 'yesterday' }, NOW)).toThrow(/--from must be a time/);
    expect(() => parseRange({ since: 'soon' }, NOW)).toThrow(/--since must be a duration/);
    expect(() => parseRange({ from: '2026-12-08T00:00:00Z' }, NOW)).toThrow(/range is empty/);
  });

  it('--step is whole minutes; without it the smallest nice step giving at most 60 points', () => {
    const r = parseRange({ since: '6h' }, NOW);
    expect(parseStep('10m', r)).toBe(600);
    expect(() => parseStep('90s', r)).toThrow(/whole minutes/);
    expect(parseStep(undefined, r)).toBe(600);
    expect(parseStep(undefined, parseRange({ since: '1h' }, NOW))).toBe(60);
    expect(parseStep(undefined, parseRange({ since: '30d' }, NOW))).toBe(43200);
  });
});

describe('stats chart', () => {
  it('sums neighbouring points to fit a width, keeping the total', () => {
    expect(fitPoints([1, 2, 3], 5)).toEqual([1, 2, 3]);
    const many = Array.from({ length: 1440 }, (_, i) => i % 7);
    const fit = fitPoints(many, 70);
    expect(fit.length).toBeLessThanOrEqual(70);
    expect(fit.reduce((a, b) => a + b, 0)).toBe(many.reduce((a, b) => a + b, 0));
  });

  it('labels with compact numbers', () => {
    expect([compact(950), compact(12_345), compact(4_500_000), compact(1_234)]).toEqual(['950', '12k', '4.5M', '1.2k']);
  });

  it('draws within 80 columns, the sum of the series without colour, and says the range and step', () => {
    const points = Array.from({ length: 360 }, (_, i) => 100 + (i % 60));
    const out = renderChart([series('a', points), series('b', points.map(() => 5))], { from: '2026-12-07T06:00:00.000Z', to: '2026-12-07T12:00:00.000Z', stepSeconds: 60 }, { color: false });
    const lines = out.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    expect(lines.length).toBe(12);
    expect(out).toContain('2026-12-07 06:00 … 2026-12-07 12:00 UTC, calls per 6m');
    // The top label is the largest column: 6 summed minutes of a + b.
    const max = Math.max(...Array.from({ length: 60 }, (_, c) => points.slice(c * 6, c * 6 + 6).reduce((x, y) => x + y + 5, 0)));
    expect(lines[0]).toContain(compact(max));
    expect(out).not.toContain('\u001b[');
  });

  it('colours up to five series with a legend on a terminal', () => {
    const out = renderChart([series('t01000-sealer', [1, 2, 3]), series('t02000-sealer', [3, 2, 1])], { from: '2026-12-07T11:57:00.000Z', to: '2026-12-07T12:00:00.000Z', stepSeconds: 60 }, { color: true });
    expect(out).toContain('t01000-sealer');
    expect(out).toContain('t02000-sealer');
    expect(out).toContain('\u001b[');
  });

  it('prints totals with error rates and percentiles', () => {
    const t = totalsTable('Caller', [{ key: 'c', calls: 2000, errors: 10, transportErrors: 10, p50Ms: 5, p99Ms: null }]);
    expect(t).toBe('Caller  Calls  Errors  Err%   NoAnswer  p50  p99\nc       2,000  10      1.00%  10        5ms  -\n');
  });
});
