import { describe, expect, it } from 'vitest';
import { Plan } from 'cosmjs-types/cosmos/upgrade/v1beta1/upgrade';
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { checkPlan, decodeCurrentPlan, PlanDecodeError } from './upgrade-plan';

const url = 'https://example.org/lavad?checksum=sha256:' + 'a'.repeat(64);
const encode = (plan?: { name: string; height: bigint; info: string }) =>
  QueryCurrentPlanResponse.encode(QueryCurrentPlanResponse.fromPartial(plan ? { plan: Plan.fromPartial(plan) } : {})).finish();

describe('x/upgrade plans', () => {
  it('decodes a plan, or nothing when none is planned', () => {
    expect(decodeCurrentPlan(encode({ name: 'v3', height: 1000n, info: 'x' }))).toEqual({ name: 'v3', height: 1000n, info: 'x' });
    expect(decodeCurrentPlan(encode())).toBeUndefined();
    expect(() => decodeCurrentPlan(Uint8Array.from([0x0a, 0x10, 1]))).toThrow(PlanDecodeError);
  });

  it('takes binaries from Cosmovisor-style info JSON', () => {
    const r = checkPlan('lava-testnet-2', { name: 'v3.0.0', height: 1000n, info: JSON.stringify({ binaries: { 'linux/amd64': url } }) });
    expect(r).toEqual({ ok: true, data: { chainId: 'lava-testnet-2', name: 'v3.0.0', height: 1000, info: JSON.stringify({ binaries: { 'linux/amd64': url } }), binaries: { 'linux/amd64': url } } });
    const plain = checkPlan('lava-testnet-2', { name: 'v3', height: 5n, info: 'https://example.org/plan.json' });
    expect(plain.ok && plain.data.binaries).toBeUndefined();
  });

  it('refuses names that are not file-name safe and heights out of range', () => {
    expect(checkPlan('c', { name: '../../etc', height: 5n, info: '' })).toMatchObject({ ok: false });
    expect(checkPlan('c', { name: 'v1', height: 0n, info: '' })).toMatchObject({ ok: false, reason: expect.stringMatching(/out of range/) });
    expect(checkPlan('c', { name: 'v1', height: 5n, info: JSON.stringify({ binaries: { 'linux/amd64': 'ftp://nope' } }) })).toMatchObject({ ok: false });
  });
});
