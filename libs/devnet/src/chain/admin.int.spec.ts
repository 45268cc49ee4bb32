// The admin endpoint over loopback HTTP: good bodies change the chain, bad ones get 400 and
// change nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DevnetChain } from './api';
import { DevnetAdminClient, DevnetAdminError } from './admin-client';
import { startDevnetChain } from './node';

let chain: DevnetChain;
beforeEach(async () => {
  chain = await startDevnetChain({ blockTimeMs: 100 });
});
afterEach(() => chain.stop());

const V2 = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };

async function post(path: string, body: string, method = 'POST'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(chain.rpcUrl + path, { method, body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('devnet admin endpoint', () => {
  it('sets the version in the next block and reports that height', async () => {
    const admin = new DevnetAdminClient(chain.rpcUrl);
    const before = chain.height();
    const res = await admin.setVersion(V2);
    expect(res.height).toBeGreaterThan(before);
    expect(chain.version()).toEqual(V2);
    const state = await admin.state();
    expect(state).toMatchObject({ chainId: 'lava-testnet-2', version: V2, upgradePlan: null, blockTimeMs: 100 });
    expect(state.height).toBeGreaterThanOrEqual(res.height);
  });

  it('accepts non-semver versions (watchers must be tested against them) but not a wrong shape', async () => {
    const odd = { ...V2, providerTarget: 'v1.2' };
    expect((await post('/admin/version', JSON.stringify(odd))).status).toBe(200);
    expect(chain.version().providerTarget).toBe('v1.2');
  });

  it.each([
    ['not JSON', '{oops', /not valid JSON/],
    ['an array', '[]', /JSON object/],
    ['a missing field', JSON.stringify({ providerTarget: '1.0.0', providerMin: '1.0.0', consumerTarget: '1.0.0' }), /consumerMin is required/],
    ['a number', JSON.stringify({ ...V2, providerMin: 22 }), /providerMin .* string/],
    ['an unknown field', JSON.stringify({ ...V2, extra: 'x' }), /unknown field\(s\): extra/],
  ])('refuses a version body that is %s with 400 and changes nothing', async (_what, body, message) => {
    const version = chain.version();
    const res = await post('/admin/version', body);
    expect(res.status).toBe(400);
    expect(String(res.json['error'])).toMatch(message);
    await chain.waitForHeight(chain.height() + 1);
    expect(chain.version()).toEqual(version);
  });

  it('schedules and clears an upgrade plan, refusing bad plans', async () => {
    const admin = new DevnetAdminClient(chain.rpcUrl);
    for (const bad of [{ name: '', height: 10 }, { name: 'v2', height: -1 }, { name: 'v2', height: 1.5 }, { name: 'v2' }, { name: 'v2', height: 10, info: 5 }]) {
      const res = await post('/admin/upgrade', JSON.stringify(bad));
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await admin.state()).upgradePlan).toBeNull();
    await admin.scheduleUpgrade({ name: 'v2', height: 50, info: '{}' });
    expect((await admin.state()).upgradePlan).toEqual({ name: 'v2', height: 50, info: '{}' });
    await admin.clearUpgrade();
    expect((await admin.state()).upgradePlan).toBeNull();
  });

  it('switches faults, refusing unknown or ill-typed switches without changing any', async () => {
    const admin = new DevnetAdminClient(chain.rpcUrl);
    for (const bad of [{ delayMs: -1 }, { fail: 'x' }, { fail: 1.5 }, { malformedParams: 'yes' }, { delayMethods: ['status'] }, { delayMs: 5, nope: true }, { fail: 2, failMethods: [3] }]) {
      const res = await post('/admin/faults', JSON.stringify({ malformedParams: true, ...bad }));
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await admin.state()).faults).toMatchObject({ malformedParams: false, delayMs: 0, failRemaining: 0, webSocketsDropped: false });
    const on = await admin.faults({ delayMs: 5, delayMethods: ['status'], fail: null, failMethods: ['block'], malformedParams: true, dropWebSockets: true });
    expect(on.faults).toMatchObject({ delayMs: 5, delayMethods: ['status'], failRemaining: null, failMethods: ['block'], malformedParams: true, webSocketsDropped: true });
    expect((await fetch(`${chain.rpcUrl}/block`)).status).toBe(503);
    const off = await admin.faults({ reset: true });
    expect(off.faults).toMatchObject({ delayMs: 0, failRemaining: 0, malformedParams: false, webSocketsDropped: false });
    expect((await fetch(`${chain.rpcUrl}/block`)).status).toBe(200);
  });

  it('answers unknown routes with 404 and the client turns errors into DevnetAdminError', async () => {
    expect((await post('/admin/nope', '{}')).status).toBe(404);
    const admin = new DevnetAdminClient(chain.rpcUrl);
    await expect(admin.scheduleUpgrade({ name: 'v2', height: 0, info: '' })).rejects.toThrow(DevnetAdminError);
  });
});
