import { describe, expect, it } from 'vitest';
import { backoffDelay, Sleeper, validateBackoff } from './backoff';

describe('backoffDelay', () => {
  const opts = { initialMs: 100, maxMs: 1_000 };

  it('doubles from the initial delay and caps at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('treats attempts below 1, fractions and NaN as the first attempt', () => {
    expect(backoffDelay(0, opts)).toBe(100);
    expect(backoffDelay(-3, opts)).toBe(100);
    expect(backoffDelay(1.9, opts)).toBe(100);
    expect(backoffDelay(Number.NaN, opts)).toBe(100);
  });

  it('never overflows for huge attempt counts', () => {
    expect(backoffDelay(1e9, opts)).toBe(1_000);
    expect(backoffDelay(Number.POSITIVE_INFINITY, opts)).toBe(100);
    expect(backoffDelay(5_000, { initialMs: 1, maxMs: 60_000, factor: 10 })).toBe(60_000);
  });

  it('honours a custom factor', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, { initialMs: 10, maxMs: 10_000, factor: 3 }))).toEqual([10, 30, 90]);
  });

  it('jitter only shortens the delay, by at most the jitter fraction', () => {
    expect(backoffDelay(3, { ...opts, jitter: 0.5 }, () => 0)).toBe(400);
    expect(backoffDelay(3, { ...opts, jitter: 0.5 }, () => 0.999999)).toBe(200);
    expect(backoffDelay(3, { ...opts, jitter: 0.25 }, () => 0.5)).toBe(350);
  });

  it('a zero initial delay stays zero', () => {
    expect(backoffDelay(10, { initialMs: 0, maxMs: 0 })).toBe(0);
  });
});

describe('validateBackoff', () => {
  it('rejects inverted bounds and factors below 1', () => {
    expect(() => validateBackoff({ initialMs: 10, maxMs: 5 }, 'x')).toThrow(/initialMs <= maxMs/);
    expect(() => validateBackoff({ initialMs: -1, maxMs: 5 }, 'x')).toThrow();
    expect(() => validateBackoff({ initialMs: 1, maxMs: 5, factor: 0.5 }, 'x')).toThrow(/factor/);
    expect(() => validateBackoff({ initialMs: 1, maxMs: 5 }, 'x')).not.toThrow();
  });
});

describe('Sleeper', () => {
  it('times out when nobody wakes it', async () => {
    const s = new Sleeper();
    expect(await s.sleep(5)).toBe(false);
  });

  it('wakes early on interrupt', async () => {
    const s = new Sleeper();
    const started = Date.now();
    const p = s.sleep(5_000);
    s.interrupt();
    expect(await p).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('keeps a wake-up that came while nobody slept, for the next sleep only', async () => {
    const s = new Sleeper();
    s.interrupt();
    expect(await s.sleep(5_000)).toBe(true);
    expect(await s.sleep(5)).toBe(false);
  });
});
