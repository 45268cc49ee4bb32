import { describe, expect, it } from 'vitest';
import { hasVersionParamChange, nextBlock, queriesDue } from './block-schedule';

const CHANGE = [{ type: 'lava_param_change', attributes: [{ key: 'param', value: 'Version' }] }];
const history = { lastParamsHeight: 10, lastPlanHeight: 10, safetyNetBlocks: 5 };

describe('nextBlock', () => {
  it('starts at the latest block, then goes block by block', () => {
    expect(nextBlock(0, 40, 100)).toEqual({ height: 40, first: true });
    expect(nextBlock(40, 43, 100)).toEqual({ height: 41, first: false });
    expect(nextBlock(43, 43, 100)).toBeUndefined();
  });

  it('skips what lies beyond the scan bound and treats the first scanned block as a start', () => {
    expect(nextBlock(10, 200, 100)).toEqual({ height: 101, first: true, skipped: { from: 11, to: 100 } });
    expect(nextBlock(10, 110, 100)).toEqual({ height: 11, first: false });
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
  });
});
