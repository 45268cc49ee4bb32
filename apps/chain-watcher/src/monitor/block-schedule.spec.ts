import { describe, expect, it } from 'vitest';
import { bisectNarrow, bisectProbe, hasVersionParamChange, nextStep, queriesDue } from './block-schedule';

const CHANGE = [{ type: 'lava_param_change', attributes: [{ key: 'param', value: 'Version' }] }];
const history = { lastParamsHeight: 10, lastPlanHeight: 10, safetyNetBlocks: 5 };

describe('nextStep', () => {
  const ctx = { maxGapScan: 100, firstAtTarget: false };

  it('with nothing on the record, starts at the latest block; then goes block by block', () => {
    expect(nextStep(0, 40, ctx)).toEqual({ kind: 'block', height: 40, first: true });
    expect(nextStep(40, 43, ctx)).toEqual({ kind: 'block', height: 41, first: false });
    expect(nextStep(43, 43, ctx)).toBeUndefined();
  });

  it('resumes after the last recorded height: every missed block is scanned, the target gets the start queries', () => {
    const start = { ...ctx, firstAtTarget: true };
    expect(nextStep(217, 223, start)).toEqual({ kind: 'block', height: 218, first: false });
    expect(nextStep(222, 223, start)).toEqual({ kind: 'block', height: 223, first: true });
  });

  it('never skips a block silently: beyond the scan bound the older blocks are left to bisection on Params', () => {
    expect(nextStep(10, 200, ctx)).toEqual({ kind: 'bisect', from: 11, to: 100 });
    expect(nextStep(100, 200, ctx)).toEqual({ kind: 'block', height: 101, first: false });
    expect(nextStep(10, 110, ctx)).toEqual({ kind: 'block', height: 11, first: false });
  });

  it('blocks the node no longer serves are named as pruned, up to its earliest height', () => {
    expect(nextStep(10, 200, { ...ctx, earliest: 150 })).toEqual({ kind: 'pruned', from: 11, to: 149 });
    expect(nextStep(149, 200, { ...ctx, earliest: 150 })).toEqual({ kind: 'block', height: 150, first: false });
    expect(nextStep(10, 20, { ...ctx, earliest: 11 })).toEqual({ kind: 'block', height: 11, first: false });
  });
});

describe('bisection on Params at a height', () => {
  /** Runs the search against a chain whose version changes at `changeAt`. */
  const search = (lo: number, hi: number, changeAt: number): { found: number; probes: number[] } => {
    let b = { lo, hi };
    const probes: number[] = [];
    for (let p = bisectProbe(b); p !== undefined; p = bisectProbe(b)) {
      probes.push(p);
      b = bisectNarrow(b, p, p < changeAt);
    }
    return { found: b.hi, probes };
  };

  it('finds the first height whose Params differ, in log2 of the range probes', () => {
    expect(search(217, 223, 217 + 1)).toMatchObject({ found: 218 });
    expect(search(100, 10_100, 4_321)).toMatchObject({ found: 4_321 });
    expect(search(100, 10_100, 4_321).probes.length).toBeLessThanOrEqual(14);
    expect(search(5, 6, 6)).toEqual({ found: 6, probes: [] });
  });
});

describe('queriesDue', () => {
  it('queries Params at a version change, at a first block and on the safety net; never twice for one block', () => {
    expect(queriesDue({ height: 12, first: false }, CHANGE, history)).toEqual({ params: 'lava_param_change', plan: false });
    expect(queriesDue({ height: 12, first: true }, CHANGE, history)).toEqual({ params: 'lava_param_change', plan: true });
    expect(queriesDue({ height: 12, first: true }, [], history)).toEqual({ params: 'start or gap', plan: true });
    expect(queriesDue({ height: 14, first: false }, [], history)).toEqual({ plan: false });
    expect(queriesDue({ height: 15, first: false }, [], history)).toEqual({ params: 'safety net', plan: true });
    expect(queriesDue({ height: 15, first: false }, [], { ...history, lastPlanHeight: 12 })).toEqual({ params: 'safety net', plan: false });
  });
});

describe('hasVersionParamChange', () => {
  it('matches lava_param_change with param=Version only', () => {
    expect(hasVersionParamChange(CHANGE)).toBe(true);
    expect(hasVersionParamChange([{ type: 'lava_param_change', attributes: [{ key: 'param', value: 'EpochBlocks' }] }])).toBe(false);
    expect(hasVersionParamChange([{ type: 'transfer', attributes: [{ key: 'param', value: 'Version' }] }])).toBe(false);
    // CometBFT 0.34 sends attributes in base64.
    expect(hasVersionParamChange([{ type: 'lava_param_change', attributes: [{ key: 'cGFyYW0=', value: 'VmVyc2lvbg==' }] }])).toBe(true);
  });
});
