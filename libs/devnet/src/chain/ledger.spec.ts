import { describe, expect, it } from 'vitest';
import { decodeLavaParamsResponse } from './lava-protocol';
import { ChainLedger, DEFAULT_VERSION } from './ledger';
import { abciQuery, callMethod, parseSubscriptionQuery, RpcError, type RpcContext } from './rpc-methods';
import { validatorIdentity } from './comet-json';

const V2 = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };
const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, s));

function ledger(retainBlocks = 100) {
  return new ChainLedger({ chainId: 'lava-testnet-2', initialHeight: 10, version: DEFAULT_VERSION, retainBlocks });
}

function ctx(l: ChainLedger, malformedParams = false): RpcContext {
  return { chainId: 'lava-testnet-2', rpcAddress: 'tcp://127.0.0.1:1', ledger: l, validator: validatorIdentity('lava-testnet-2'), malformedParams };
}

const paramsValue = (answer: unknown) => {
  const r = (answer as { response: { value: string | null; code: number; height: string } }).response;
  return { code: r.code, height: Number(r.height), version: r.value ? decodeLavaParamsResponse(Buffer.from(r.value, 'base64')) : undefined };
};

describe('ChainLedger', () => {
  it('chains blocks from the initial height, each hash linking to the previous one', () => {
    const l = ledger();
    const a = l.commit(t(1)).record;
    const b = l.commit(t(2)).record;
    expect([a.height, b.height]).toEqual([10, 11]);
    expect(a.last).toBeUndefined();
    expect(b.last?.hash).toBe(a.hash);
    expect(b.headerAppHash).toBe(a.appHash);
    expect(a.hash).toMatch(/^[0-9A-F]{64}$/);
    expect(a.hash).not.toBe(b.hash);
  });

  it('applies queued changes in the next block only, with lava_param_change carrying the new value', async () => {
    const l = ledger();
    l.commit(t(1));
    const applied = l.enqueueVersion(V2);
    expect(l.currentVersion()).toEqual(DEFAULT_VERSION);
    const { record, settled } = l.commit(t(2));
    settled.forEach((s) => s.resolve({ height: record.height }));
    await expect(applied).resolves.toEqual({ height: 11 });
    expect(l.currentVersion()).toEqual(V2);
    const change = record.events.find((e) => e.type === 'lava_param_change');
    expect(change?.attributes).toContainEqual({ key: 'param', value: 'Version' });
    expect(JSON.parse(change!.attributes.find((a) => a.key === 'value')!.value)).toEqual({ provider_target: '0.23.2', provider_min: '0.22.0', consumer_target: '0.23.2', consumer_min: '0.22.0' });
    expect(l.commit(t(3)).record.events).toEqual([]);
    expect(l.at(10)?.version).toEqual(DEFAULT_VERSION);
    expect(l.at(11)?.version).toEqual(V2);
  });

  it('prunes beyond retainBlocks', () => {
    const l = ledger(3);
    for (let i = 0; i < 5; i++) l.commit(t(i));
    expect(l.earliest?.height).toBe(12);
    expect(l.at(11)).toBeUndefined();
    expect(l.at(14)?.height).toBe(14);
  });

  it('rejects pending changes when abandoned', async () => {
    const l = ledger();
    const p = l.enqueuePlan({ name: 'v2', height: 5, info: '' });
    l.abandonPending(new Error('stopped'));
    await expect(p).rejects.toThrow('stopped');
    expect(l.commit(t(1)).record.plan).toBeUndefined();
  });
});

describe('RPC methods', () => {
  it('answers Params at the latest and at a past height; future or pruned heights get code 26', () => {
    const l = ledger(3);
    l.commit(t(1));
    void l.enqueueVersion(V2);
    l.commit(t(2));
    const c = ctx(l);
    expect(paramsValue(abciQuery(c, { path: '/lavanet.lava.protocol.Query/Params' }))).toEqual({ code: 0, height: 11, version: V2 });
    expect(paramsValue(abciQuery(c, { path: '/lavanet.lava.protocol.Query/Params', height: '10' })).version).toEqual(DEFAULT_VERSION);
    expect(paramsValue(abciQuery(c, { path: '/lavanet.lava.protocol.Query/Params', height: 12 })).code).toBe(26);
    for (let i = 0; i < 3; i++) l.commit(t(3 + i));
    expect(paramsValue(abciQuery(c, { path: '/lavanet.lava.protocol.Query/Params', height: '10' })).code).toBe(26);
    expect(paramsValue(abciQuery(c, { path: '/nope' })).code).toBe(6);
  });

  it('truncates the Params bytes when malformed', () => {
    const l = ledger();
    l.commit(t(1));
    expect(() => paramsValue(abciQuery(ctx(l, true), { path: '/lavanet.lava.protocol.Query/Params' }))).toThrow();
  });

  it('rejects bad params with JSON-RPC errors', () => {
    const l = ledger();
    l.commit(t(1));
    const c = ctx(l);
    const failure = (f: () => unknown): RpcError => {
      try {
        f();
      } catch (e) {
        if (e instanceof RpcError) return e;
        throw e;
      }
      throw new Error('did not throw');
    };
    expect(failure(() => callMethod(c, 'block', { height: 'x' }))).toMatchObject({ code: -32602, data: expect.stringMatching(/invalid height/) });
    expect(failure(() => callMethod(c, 'block', { height: 99 }))).toMatchObject({ code: -32603, data: expect.stringMatching(/current blockchain height 10/) });
    expect(failure(() => callMethod(c, 'abci_query', { path: '/a', data: 'zz' }))).toMatchObject({ code: -32602, data: expect.stringMatching(/not valid hex/) });
    expect(failure(() => callMethod(c, 'nope', {}))).toMatchObject({ code: -32601, message: 'Method not found' });
    expect(callMethod(c, 'block', ['10'])).toMatchObject({ block: { header: { height: '10' } } });
  });

  it('parses the subscription queries it supports', () => {
    expect(parseSubscriptionQuery("tm.event='NewBlock'")).toBe('NewBlock');
    expect(parseSubscriptionQuery("tm.event = 'NewBlockHeader'")).toBe('NewBlockHeader');
    expect(() => parseSubscriptionQuery("tm.event='Tx'")).toThrow(RpcError);
    expect(() => parseSubscriptionQuery(5)).toThrow(RpcError);
  });
});
