import { describe, expect, it } from 'vitest';
import { newEventFor, UpgradePlanned, VersionChanged, type RecordedEvent } from '@fleetvisor/contracts';
import { decideVersion, foldChainLog, hasVersionParamChange } from './chain-log';
import { planKey } from './upgrade-plan';

const V1 = { providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' };
const V2 = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };
const obs = { chainId: 'lava-testnet-2', height: 42, endpoint: 'http://127.0.0.1:26657', metadata: { host: 'h1', actor: 'chain-watcher' } };

const recorded = (e: ReturnType<typeof newEventFor>, n: number): RecordedEvent => ({ ...e, streamVersion: n, globalPosition: String(n), checkpoint: `1:${n}` });

describe('foldChainLog', () => {
  it('keeps the last announced version, its height and every plan', () => {
    const events = [
      recorded(newEventFor(VersionChanged, { chainId: obs.chainId, height: 10, previous: null, current: V1 }), 1),
      recorded(newEventFor(UpgradePlanned, { chainId: obs.chainId, name: 'v3', height: 900, info: '' }), 2),
      recorded(newEventFor(VersionChanged, { chainId: obs.chainId, height: 20, previous: V1, current: V2 }), 3),
    ];
    const s = foldChainLog(events, 3);
    expect(s).toMatchObject({ streamVersion: 3, version: V2, versionHeight: 20 });
    expect(s.plans.has(planKey({ name: 'v3', height: 900, info: '' }))).toBe(true);
  });
});

describe('decideVersion', () => {
  it('announces the first version with previous null, then only real changes', () => {
    const first = decideVersion({ version: null }, obs, V1);
    expect(first.kind).toBe('changed');
    expect(first.kind === 'changed' && first.event.data).toEqual({ chainId: obs.chainId, height: 42, previous: null, current: V1 });
    expect(decideVersion({ version: V1 }, obs, { ...V1 }).kind).toBe('unchanged');
    const second = decideVersion({ version: V1 }, obs, V2);
    expect(second.kind === 'changed' && second.event).toMatchObject({ type: 'VersionChanged', stream: 'chain-lava-testnet-2', metadata: obs.metadata });
  });

  it.each([
    [{ ...V2, providerTarget: 'v0.23.2' }, 'invalid_version', /providerTarget "v0.23.2" is not a strict X.Y.Z/],
    [{ ...V2, consumerTarget: '0.23.2-rc1' }, 'invalid_version', /consumerTarget/],
    [{ ...V2, providerMin: '' }, 'invalid_version', /providerMin/],
    [{ ...V2, providerMin: '0.30.0' }, 'min_above_target', /providerMin 0.30.0 is above providerTarget 0.23.2/],
    ['garbage', 'malformed_response', /must be an object/],
  ])('refuses %j as a %s anomaly carrying the raw answer', (answer, kind, reason) => {
    const d = decideVersion({ version: V1 }, obs, answer);
    expect(d.kind).toBe('anomaly');
    if (d.kind !== 'anomaly') return;
    expect(d.anomalyKind).toBe(kind);
    expect(d.reason).toMatch(reason);
    expect(d.event).toMatchObject({ type: 'ChainAnomaly', data: { chainId: obs.chainId, height: 42, endpoint: obs.endpoint, kind } });
    expect((d.event.data as { raw: string }).raw).toContain(typeof answer === 'string' ? answer : JSON.stringify(answer).slice(0, 20));
  });

  it('compares numerically: 0.10.0 is a change from 0.9.0 and min 0.9.9 <= target 0.10.0', () => {
    const v = { providerTarget: '0.10.0', providerMin: '0.9.9', consumerTarget: '0.10.0', consumerMin: '0.9.9' };
    expect(decideVersion({ version: V1 }, obs, v).kind).toBe('changed');
  });
});

describe('hasVersionParamChange', () => {
  it('matches lava_param_change with param=Version only', () => {
    expect(hasVersionParamChange([{ type: 'lava_param_change', attributes: [{ key: 'param', value: 'Version' }] }])).toBe(true);
    expect(hasVersionParamChange([{ type: 'lava_param_change', attributes: [{ key: 'param', value: 'EpochBlocks' }] }])).toBe(false);
    expect(hasVersionParamChange([{ type: 'transfer', attributes: [{ key: 'param', value: 'Version' }] }])).toBe(false);
  });
});
