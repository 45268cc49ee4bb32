import { describe, expect, it } from 'vitest';
import { hasVersionParamChange } from '../monitor/block-schedule';
import { blockResultEvents } from './block-results';

const change = { type: 'lava_param_change', attributes: [{ key: 'param', value: 'Version', index: true }] };
const transfer = { type: 'transfer', attributes: [{ key: 'amount', value: '1ulava' }] };

describe('blockResultEvents', () => {
  it('reads CometBFT 0.38 finalize_block_events and the transactions\' events', () => {
    const r = { height: '5', txs_results: [{ code: 0, events: [transfer] }, { code: 0, events: [change] }], finalize_block_events: [transfer] };
    expect(blockResultEvents(r).map((e) => e.type)).toEqual(['transfer', 'transfer', 'lava_param_change']);
    expect(hasVersionParamChange(blockResultEvents(r))).toBe(true);
  });

  it('reads 0.37 begin_block_events and end_block_events (a proposal applied in EndBlock)', () => {
    const r = { height: '5', txs_results: null, begin_block_events: [transfer], end_block_events: [change], validator_updates: null };
    expect(blockResultEvents(r)).toEqual([
      { type: 'transfer', attributes: [{ key: 'amount', value: '1ulava' }] },
      { type: 'lava_param_change', attributes: [{ key: 'param', value: 'Version' }] },
    ]);
  });

  it('tolerates missing lists and odd entries', () => {
    expect(blockResultEvents({ height: '5' })).toEqual([]);
    expect(blockResultEvents(null)).toEqual([]);
    expect(blockResultEvents({ finalize_block_events: [null, { type: 3 }, { type: 'x', attributes: [{ key: 'k' }] }] })).toEqual([{ type: 'x', attributes: [{ key: 'k', value: '' }] }]);
  });
});
