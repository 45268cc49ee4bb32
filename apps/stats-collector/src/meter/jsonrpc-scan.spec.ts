import { describe, expect, it } from 'vitest';
import { INVALID_METHOD, responseOutcomes, scanRequest, topLevelKeys, UNPARSED_METHOD } from './jsonrpc-scan';

const b = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('scanRequest', () => {
  it('reads the method and id of a single request, each element of a batch, notifications without id', () => {
    expect(scanRequest(b({ jsonrpc: '2.0', id: 1, method: 'Filecoin.ChainHead', params: [] }))).toEqual({ batch: false, calls: [{ id: '1', method: 'Filecoin.ChainHead' }] });
    expect(
      scanRequest(
        b([
          { jsonrpc: '2.0', id: 'a', method: 'Filecoin.ChainHead' },
          { jsonrpc: '2.0', method: 'Filecoin.MpoolPush' },
          { jsonrpc: '2.0', id: 1, method: 'Filecoin.ChainHead' },
        ]),
      ),
    ).toEqual({ batch: true, calls: [{ id: '"a"', method: 'Filecoin.ChainHead' }, { id: undefined, method: 'Filecoin.MpoolPush' }, { id: '1', method: 'Filecoin.ChainHead' }] });
  });

  it('counts what is not JSON-RPC under names of its own instead of dropping it', () => {
    expect(scanRequest(b('{oops')).calls).toEqual([{ id: undefined, method: UNPARSED_METHOD }]);
    expect(scanRequest(b([])).calls).toEqual([{ id: undefined, method: UNPARSED_METHOD }]);
    expect(scanRequest(b({ id: 1, method: 'has space' })).calls[0]!.method).toBe(INVALID_METHOD);
    expect(scanRequest(b({ id: 1, method: 'x'.repeat(300) })).calls[0]!.method).toBe(INVALID_METHOD);
  });
});

describe('topLevelKeys', () => {
  it('finds the top-level keys only, skipping nested values and strings with escapes', () => {
    expect(topLevelKeys(b({ jsonrpc: '2.0', id: 1, result: { error: 1, nested: [{ error: '"}' }] } }))).toEqual(['jsonrpc', 'id', 'result']);
    expect(topLevelKeys(b('  {"a\\"b": "x\\\\", "error": {"code": 1}}'))).toEqual(['a\\"b', 'error']);
    expect(topLevelKeys(b('[1]'))).toBeUndefined();
    expect(topLevelKeys(b('{"a": 1'))).toBeUndefined();
  });

  it('scans a large result without parsing it', () => {
    const big = b({ jsonrpc: '2.0', id: 7, result: Array.from({ length: 100_000 }, (_, i) => ({ SectorNumber: i, note: 'error' })) });
    expect(topLevelKeys(big)).toEqual(['jsonrpc', 'id', 'result']);
  });
});

describe('responseOutcomes', () => {
  it('single: ok with a result, error with an error or anything else', () => {
    const single = scanRequest(b({ id: 1, method: 'M' }));
    expect(responseOutcomes(single, b({ jsonrpc: '2.0', id: 1, result: null }))).toEqual(['ok']);
    expect(responseOutcomes(single, b({ jsonrpc: '2.0', id: 1, error: { code: 1, message: 'x' } }))).toEqual(['error']);
    expect(responseOutcomes(single, b('not json'))).toEqual(['error']);
  });

  it('batch: matched by id in any order; a missing answer is an error, a notification ok', () => {
    const batch = scanRequest(b([{ id: 1, method: 'A' }, { id: '1', method: 'B' }, { method: 'N' }, { id: 3, method: 'C' }]));
    expect(responseOutcomes(batch, b([{ id: '1', error: { code: 1 } }, { id: 1, result: 2 }]))).toEqual(['ok', 'error', 'ok', 'error']);
    expect(responseOutcomes(batch, b({ id: null, error: { code: -32600 } }))).toEqual(['error', 'error', 'error', 'error']);
  });
});
