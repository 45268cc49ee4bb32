import { describe, expect, it } from 'vitest';
import { Plan } from 'cosmjs-types/cosmos/upgrade/v1beta1/upgrade';
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import type { ProtocolVersion } from '@fleetvisor/contracts';
import { encodeLavaParamsResponse } from '@fleetvisor/devnet';
import { emptyChainLog } from './chain-log';
import { decideAtHeight, type HeightAnswers } from './height-decision';
import { planKey } from './upgrade-plan';

const V1: ProtocolVersion = { providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' };
const V2: ProtocolVersion = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };
const obs = { chainId: 'lava-testnet-2', height: 42, endpoint: 'http://127.0.0.1:26657', metadata: { host: 'h1', actor: 'chain-watcher' } };
const url = 'https://example.org/lavad?checksum=sha256:' + 'a'.repeat(64);
const PLAN = { name: 'v3.0.0', height: 1000n, info: JSON.stringify({ binaries: { 'linux/amd64': url } }) };

const params = (v: ProtocolVersion): HeightAnswers['params'] => ({ value: encodeLavaParamsResponse(v) });
const plan = (p?: { name: string; height: bigint; info: string }): HeightAnswers['plan'] => ({
  value: QueryCurrentPlanResponse.encode(QueryCurrentPlanResponse.fromPartial(p ? { plan: Plan.fromPartial(p) } : {})).finish(),
});
const at = (version: ProtocolVersion | null, plans: string[] = []) => ({ ...emptyChainLog(), version, plans: new Set(plans) });

describe('decideAtHeight: Params', () => {
  it('announces the first version with previous null, then only real changes', () => {
    const first = decideAtHeight(at(null), {}, obs, { params: params(V1) });
    expect(first.events.map((e) => [e.type, e.data])).toEqual([['VersionChanged', { chainId: obs.chainId, height: 42, previous: null, current: V1 }]]);
    expect(first.version).toEqual({ previous: null, current: V1 });
    expect(decideAtHeight(at(V1), {}, obs, { params: params({ ...V1 }) })).toMatchObject({ events: [], refusals: [] });
    const second = decideAtHeight(at(V1), {}, obs, { params: params(V2) });
    expect(second.events[0]).toMatchObject({ type: 'VersionChanged', stream: 'chain-lava-testnet-2', metadata: obs.metadata, data: { previous: V1, current: V2 } });
  });

  it('decides nothing on Params at a height the record already covers (another replica got there first)', () => {
    const covered = { ...at(V1), lastHeight: 42 };
    expect(decideAtHeight(covered, {}, obs, { params: params(V2) })).toMatchObject({ events: [], refusals: [] });
    expect(decideAtHeight({ ...covered, lastHeight: 41 }, {}, obs, { params: params(V2) }).version).toEqual({ previous: V1, current: V2 });
  });

  it('a change after blocks that could not be read is recorded where it shows, after an anomaly naming the blocks', () => {
    const d = decideAtHeight(at(V1), {}, obs, { params: params(V2) }, { from: 30, to: 41 });
    expect(d.events.map((e) => e.type)).toEqual(['ChainAnomaly', 'VersionChanged']);
    expect(d.events[0]!.data).toMatchObject({ kind: 'rpc_error', height: 42, reason: expect.stringMatching(/blocks 30\.\.41 .*recorded at 42/) });
    expect(decideAtHeight(at(V1), {}, obs, { params: params(V1) }, { from: 30, to: 41 }).events).toEqual([]);
  });

  it('compares numerically: 0.10.0 is a change from 0.9.0 and min 0.9.9 <= target 0.10.0', () => {
    const v = { providerTarget: '0.10.0', providerMin: '0.9.9', consumerTarget: '0.10.0', consumerMin: '0.9.9' };
    expect(decideAtHeight(at(V1), {}, obs, { params: params(v) }).version?.current).toEqual(v);
  });

  it.each([
    [{ ...V2, providerTarget: 'v0.23.2' }, 'invalid_version', /providerTarget "v0.23.2" is not a strict X.Y.Z/],
    [{ ...V2, consumerTarget: '0.23.2-rc1' }, 'invalid_version', /consumerTarget/],
    [{ ...V2, providerMin: '' }, 'invalid_version', /providerMin/],
    [{ ...V2, providerMin: '0.30.0' }, 'min_above_target', /providerMin 0.30.0 is above providerTarget 0.23.2/],
  ])('refuses %j as a %s anomaly carrying the decoded answer', (answer, kind, reason) => {
    const d = decideAtHeight(at(V1), {}, obs, { params: params(answer) });
    expect(d.version).toBeUndefined();
    expect(d.refusals).toEqual([expect.objectContaining({ query: 'params', kind, recorded: true, reason: expect.stringMatching(reason) })]);
    expect(d.events).toHaveLength(1);
    expect(d.events[0]).toMatchObject({ type: 'ChainAnomaly', data: { chainId: obs.chainId, height: 42, endpoint: obs.endpoint, kind } });
    expect((d.events[0]!.data as { raw: string }).raw).toBe(JSON.stringify({ ...V2, ...answer }));
  });

  it('refuses bytes that are not a QueryParamsResponse as malformed_response, with the bytes', () => {
    const d = decideAtHeight(at(V1), {}, obs, { params: { value: Uint8Array.from([0xff, 0xff, 0xff]) } });
    expect(d.events[0]).toMatchObject({ type: 'ChainAnomaly', data: { kind: 'malformed_response', raw: 'base64:////' } });
  });

  it('records a refusal by the node (ABCI error) as rpc_error', () => {
    const d = decideAtHeight(at(V1), {}, obs, { params: { refused: 'Params failed with code 26', raw: { code: 26 } } });
    expect(d.events[0]).toMatchObject({ type: 'ChainAnomaly', data: { kind: 'rpc_error', reason: 'Params failed with code 26', raw: '{"code":26}' } });
  });

  it('records the same bad answer once, and again after a good answer in between', () => {
    const bad = { params: params({ ...V2, providerMin: '0.30.0' }) };
    const first = decideAtHeight(at(V1), {}, obs, bad);
    const repeated = decideAtHeight(at(V1), first.memory, { ...obs, height: 43 }, bad);
    expect(repeated.events).toEqual([]);
    expect(repeated.refusals).toEqual([expect.objectContaining({ kind: 'min_above_target', recorded: false })]);
    const good = decideAtHeight(at(V1), repeated.memory, obs, { params: params(V1) });
    expect(decideAtHeight(at(V1), good.memory, obs, bad).events).toHaveLength(1);
  });
});

describe('decideAtHeight: upgrade plans', () => {
  it('announces a new plan once, with its binaries', () => {
    const d = decideAtHeight(at(V1), {}, obs, { plan: plan(PLAN) });
    expect(d.events).toHaveLength(1);
    expect(d.events[0]).toMatchObject({ type: 'UpgradePlanned', data: { chainId: obs.chainId, name: 'v3.0.0', height: 1000, binaries: { 'linux/amd64': url } } });
    expect(d.plan?.name).toBe('v3.0.0');
    expect(decideAtHeight(at(V1, [planKey(PLAN)]), {}, obs, { plan: plan(PLAN) }).events).toEqual([]);
    expect(decideAtHeight(at(V1), {}, obs, { plan: plan() })).toMatchObject({ events: [], refusals: [] });
  });

  it('refuses an invalid plan or undecodable bytes as invalid_upgrade_plan', () => {
    const bad = decideAtHeight(at(V1), {}, obs, { plan: plan({ name: '../../etc', height: 5n, info: '' }) });
    expect(bad.events[0]).toMatchObject({ type: 'ChainAnomaly', data: { kind: 'invalid_upgrade_plan' } });
    expect((bad.events[0]!.data as { raw: string }).raw).toContain('../../etc');
    const garbage = decideAtHeight(at(V1), {}, obs, { plan: { value: Uint8Array.from([0x0a, 0x10, 1]) } });
    expect(garbage.events[0]).toMatchObject({ type: 'ChainAnomaly', data: { kind: 'invalid_upgrade_plan', raw: 'base64:ChAB' } });
  });

  it('keeps the memory of a bad plan when Params are fine (a persisting bad plan is recorded once)', () => {
    const answers = { params: params(V1), plan: plan({ name: '../../etc', height: 5n, info: '' }) };
    const first = decideAtHeight(at(V1), {}, obs, answers);
    expect(first.events.map((e) => e.type)).toEqual(['ChainAnomaly']);
    expect(decideAtHeight(at(V1), first.memory, { ...obs, height: 52 }, answers).events).toEqual([]);
  });

  it('decides Params and plan of one height together, Params first', () => {
    const d = decideAtHeight(at(null), {}, obs, { params: params(V1), plan: plan(PLAN) });
    expect(d.events.map((e) => e.type)).toEqual(['VersionChanged', 'UpgradePlanned']);
  });
});
