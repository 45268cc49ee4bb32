import { describe, expect, it } from 'vitest';
import { newEventFor, UpgradePlanned, VersionChanged, type RecordedEvent } from '@fleetvisor/contracts';
import { decideVersion, evolveChainLog, foldChainLog, latestVersionChanged } from './chain-log';
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
    const s = foldChainLog(events);
    expect(s).toMatchObject({ version: V2, versionHeight: 20, lastHeight: 20 });
    expect(s.plans.has(planKey({ name: 'v3', height: 900, info: '' }))).toBe(true);
  });

  it('evolves without touching the state it was given (a failed append leaves the state as it was)', () => {
    const before = foldChainLog([]);
    const after = evolveChainLog(before, newEventFor(UpgradePlanned, { chainId: obs.chainId, name: 'v4', height: 950, info: '' }));
    expect(after.plans.size).toBe(1);
    expect(before.plans.size).toBe(0);
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

});

describe('latestVersionChanged (chain-watcher.version-event)', () => {
  it('returns the newest VersionChanged exactly as stored, without its position in the log; undefined for a chain without one', async () => {
    const first = newEventFor(VersionChanged, { chainId: obs.chainId, height: 10, previous: null, current: V1 }, { host: 'cw-1', actor: 'chain-watcher', correlationId: 'c-1' });
    const second = newEventFor(VersionChanged, { chainId: obs.chainId, height: 20, previous: V1, current: V2 }, { host: 'cw-1', actor: 'chain-watcher' });
    const plan = newEventFor(UpgradePlanned, { chainId: obs.chainId, name: 'v3', height: 900, info: '' });
    const streams: Record<string, RecordedEvent[]> = { [`chain-${obs.chainId}`]: [recorded(first, 1), recorded(second, 2), recorded(plan, 3)] };
    const store = { readStream: async (stream: string) => ({ events: streams[stream] ?? [], currentVersion: (streams[stream] ?? []).length }) };
    expect(await latestVersionChanged(store, obs.chainId)).toEqual(second);
    expect(await latestVersionChanged(store, 'lava-other')).toBeUndefined();
  });
});
