import { describe, expect, it } from 'vitest';
import { bandView, DEFAULT_BAND_SETTINGS, evaluateBand, learnBand, type MinuteSeries } from './steady-band';

const T0 = Date.parse('2026-12-07T00:00:00.000Z');
const MIN = 60_000;
/** A sealing miner's message sending: 3, 5, 4, 4, 6, 2 … a minute (mean 4). */
const steady = (i: number) => [3, 5, 4, 4, 6, 2][i % 6]!;

function series(minutes: number, f: (i: number) => number): MinuteSeries {
  return { startMs: T0, counts: Array.from({ length: minutes }, (_, i) => f(i)) };
}

describe('learnBand', () => {
  it('is the spread of the rates with some slack, and needs enough history', () => {
    expect(learnBand([4, 4, 4], 5)).toBeUndefined();
    const b = learnBand(Array.from({ length: 100 }, (_, i) => 3.5 + (i % 10) / 10), 60)!;
    expect(b.median).toBeCloseTo(3.95, 5);
    expect(b.low).toBeCloseTo(3.5 - 0.79, 5);
    expect(b.high).toBeCloseTo(4.4 + 0.79, 5);
  });
});

describe('evaluateBand', () => {
  const st = DEFAULT_BAND_SETTINGS;

  it('says nothing for a caller that stays in its band', () => {
    const s = series(6 * 60, steady);
    expect(evaluateBand(s, T0 + 6 * 60 * MIN, st, undefined)).toBeUndefined();
  });

  it('fires on a caller whose rate leaves its band for longer than afterMs, with the band and the rate', () => {
    // 4 h steady, then a stuck retry loop at 30 calls a minute from minute 240.
    const s = series(5 * 60, (i) => (i >= 240 ? 30 : steady(i)));
    // At minute 240 + 30 (edge) + 9: only 9 minutes outside are old enough: not yet.
    expect(evaluateBand(s, T0 + (240 + 30 + 9) * MIN, st, undefined)).toBeUndefined();
    const d = evaluateBand(s, T0 + (240 + 30 + 11) * MIN, st, undefined);
    expect(d).toMatchObject({ kind: 'anomaly', direction: 'above' });
    if (d?.kind !== 'anomaly') throw new Error('no anomaly');
    expect(d.band.low).toBeGreaterThan(2);
    expect(d.band.high).toBeLessThan(6.5);
    // Smoothed over 10 minutes, the rate leaves the band on the burst's first or second minute.
    expect(d.outsideSince).toBeGreaterThanOrEqual(T0 + 240 * MIN);
    expect(d.outsideSince).toBeLessThanOrEqual(T0 + 242 * MIN);
    expect(d.observedPerMin).toBeGreaterThan(20);
  });

  it('fires below the band too (a miner that stopped sending)', () => {
    const s = series(5 * 60, (i) => (i >= 240 ? 0 : steady(i)));
    expect(evaluateBand(s, T0 + (240 + 30 + 25) * MIN, st, undefined)).toMatchObject({ kind: 'anomaly', direction: 'below' });
  });

  it('ignores the first half hour of a caller (its start-up) and the last half hour (not complete yet)', () => {
    // A start-up burst in the first 30 minutes, then steady for hours: no anomaly at any time.
    const startup = series(5 * 60, (i) => (i < 30 ? 40 : steady(i)));
    for (let m = 60; m <= 300; m += 5) expect(evaluateBand(startup, T0 + m * MIN, st, undefined), `minute ${m}`).toBeUndefined();
    // A burst in the newest 30 minutes: not looked at yet.
    const late = series(5 * 60, (i) => (i >= 275 ? 40 : steady(i)));
    expect(evaluateBand(late, T0 + 300 * MIN, st, undefined)).toBeUndefined();
  });

  it('needs an hour of history after the ignored start before it has a band', () => {
    const young = series(80, (i) => (i >= 40 ? 30 : steady(i)));
    expect(evaluateBand(young, T0 + 80 * MIN, { ...st, edgeMs: 0 }, undefined)).toBeUndefined();
  });

  it('recovers when the rate is back inside the band it left', () => {
    const s = series(6 * 60, (i) => (i >= 240 && i < 280 ? 30 : steady(i)));
    const d = evaluateBand(s, T0 + (240 + 30 + 11) * MIN, st, undefined);
    if (d?.kind !== 'anomaly') throw new Error('no anomaly');
    const open = { band: d.band, outsideSince: d.outsideSince, direction: d.direction };
    expect(evaluateBand(s, T0 + (280 + 30 + 2) * MIN, st, open)).toBeUndefined(); // still smoothing out
    const r = evaluateBand(s, T0 + (280 + 30 + 12) * MIN, st, open);
    expect(r).toMatchObject({ kind: 'recovered', band: d.band });
    if (r?.kind !== 'recovered') throw new Error('no recovery');
    expect(r.anomalyMs).toBeGreaterThanOrEqual(40 * MIN);
  });
});

describe('bandView (what the dashboard draws)', () => {
  const st = { ...DEFAULT_BAND_SETTINGS, edgeMs: 60_000, afterMs: 120_000 };
  const MIN_ = 60_000;
  const start = Date.UTC(2026, 11, 7, 10, 0);
  const series = (counts: number[]) => ({ startMs: start, counts });

  it('gives the judged minutes from the first full smoothing window, the band, and the side of the newest rate', () => {
    const counts = Array.from({ length: 100 }, (_, i) => (i >= 85 ? 40 : [3, 5, 4, 4, 6, 2][i % 6]!));
    const now = start + 100 * MIN_;
    const v = bandView(series(counts), now, st, undefined, 1440)!;
    // Judged: from a minute after the first call (edge) plus a smoothing window, to the newest minute older than the edge.
    expect(v.fromMs).toBe(start + (1 + st.smoothMinutes - 1) * MIN_);
    expect(v.rates).toHaveLength(98 - 10 + 1);
    expect(v.band!.median).toBeCloseTo(4, 0);
    expect(v.outside).toBe('above');
    // Asked for fewer minutes: the newest ones.
    const last = bandView(series(counts), now, st, undefined, 20)!;
    expect(last.rates).toEqual(v.rates.slice(-20));
    expect(last.fromMs).toBe(start + (98 - 19) * MIN_);
  });

  it("keeps an open anomaly's band, and has nothing to show before a smoothing window of data", () => {
    const counts = Array.from({ length: 100 }, () => 4);
    const open = { band: { low: 10, high: 20, median: 15, historyMinutes: 90 }, outsideSince: start, direction: 'below' as const };
    expect(bandView(series(counts), start + 100 * MIN_, st, open, 60)).toMatchObject({ band: open.band, outside: 'below' });
    expect(bandView(series([0, 0, 4, 4, 4]), start + 5 * MIN_, st, undefined, 60)).toBeUndefined();
    expect(bandView(series(new Array(100).fill(0)), start + 100 * MIN_, st, undefined, 60)).toBeUndefined();
  });
});
