import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RefusalReporter, type Refusal, type RefusalReport } from './refusal-reporter';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const forged = (n: number, source = 'chain-lava-1'): Refusal => ({
  kind: 'event',
  source,
  subject: `fleet.evt.chain.lava-1.VersionChanged`,
  code: 'unauthorized',
  reason: 'the event is not signed',
  id: `e-${n}`,
});

afterEach(() => vi.useRealTimers());

describe('RefusalReporter', () => {
  it('counts and logs every refusal with its subject and why, but reports a source at most once per window, with the count', () => {
    vi.useFakeTimers();
    const { logger, lines } = capture();
    const reports: RefusalReport[] = [];
    const r = new RefusalReporter({ logger, onReport: (x) => reports.push(x), windowMs: 60_000, now: () => Date.now() });

    for (let i = 1; i <= 500; i++) r.refuse(forged(i));
    // The first at once, the other 499 wait for the window's end.
    expect(reports).toEqual([expect.objectContaining({ id: 'e-1', refused: 1 })]);
    expect(lines.filter((l) => l['subject'] === 'fleet.evt.chain.lava-1.VersionChanged' && l['reason'] === 'the event is not signed')).toHaveLength(500);
    expect(r.totals()).toEqual([{ kind: 'event', code: 'unauthorized', count: 500 }]);

    vi.advanceTimersByTime(59_999);
    expect(reports).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(reports).toHaveLength(2);
    expect(reports[1]).toMatchObject({ id: 'e-500', refused: 499, source: 'chain-lava-1' });

    // A quiet window: the next refusal is reported at once again.
    vi.advanceTimersByTime(120_000);
    r.refuse(forged(501));
    expect(reports).toHaveLength(3);
    expect(reports[2]).toMatchObject({ id: 'e-501', refused: 1 });
    r.stop();
  });

  it('keeps one window per source, and folds sources beyond the bound into one', () => {
    vi.useFakeTimers();
    const { logger } = capture();
    const reports: RefusalReport[] = [];
    const r = new RefusalReporter({ logger, onReport: (x) => reports.push(x), maxSources: 2 });
    r.refuse(forged(1, 'a'));
    r.refuse(forged(2, 'b'));
    r.refuse(forged(3, 'c'));
    r.refuse(forged(4, 'd'));
    expect(reports.map((x) => x.source)).toEqual(['a', 'b', '*']);
    vi.advanceTimersByTime(60_000);
    expect(reports.map((x) => [x.source, x.refused])).toEqual([
      ['a', 1],
      ['b', 1],
      ['*', 1],
      ['*', 1],
    ]);
    expect(r.total('event')).toBe(4);
    expect(r.total('command')).toBe(0);
    r.stop();
  });

  it('stop reports what is pending and then reports no more', () => {
    const { logger } = capture();
    const reports: RefusalReport[] = [];
    const r = new RefusalReporter({ logger, onReport: (x) => reports.push(x) });
    r.refuse({ ...forged(1), kind: 'command', code: 'forbidden' });
    r.refuse({ ...forged(2), kind: 'command', code: 'forbidden' });
    r.stop();
    expect(reports.map((x) => x.refused)).toEqual([1, 1]);
    r.refuse(forged(3));
    expect(reports).toHaveLength(2);
    expect(r.totals()).toEqual([
      { kind: 'command', code: 'forbidden', count: 2 },
      { kind: 'event', code: 'unauthorized', count: 1 },
    ]);
  });
});
