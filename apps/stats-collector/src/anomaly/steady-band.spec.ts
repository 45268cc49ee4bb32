import { describe, expect, it } from 'vitest';
import { DEFAULT_BAND_SETTINGS, evaluateBand, learnBand, type MinuteSeries } from './steady-band';

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
