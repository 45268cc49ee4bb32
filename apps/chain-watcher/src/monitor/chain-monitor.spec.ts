// ChainMonitor with a fake chain (no socket: it polls) and an in-memory log.
import { afterEach, describe, expect, it } from 'vitest';
import { Plan } from 'cosmjs-types/cosmos/upgrade/v1beta1/upgrade';
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { newEventFor, VersionChanged } from '@fleetvisor/contracts';
import { createLogger } from '@fleetvisor/platform';
import { expectEventually } from '@fleetvisor/testing';
import { FakeChain, MemoryChainLog, V1, V2, VERSION_CHANGE } from '../../test/fakes';
import type { ChainConnector } from '../connection/chain-rpc';
import { ChainMonitor } from './chain-monitor';

const CHANGE = VERSION_CHANGE;
const settings = { safetyNetBlocks: 5, pollIntervalMs: 5, wsRetryMinMs: 1_000, wsRetryMaxMs: 1_000, wsStallMs: 10_000, preferredProbeMs: 10_000, maxGapScan: 100 };
const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });
let monitor: ChainMonitor | undefined;
afterEach(async () => monitor?.stop());

describe('ChainMonitor', () => {
  it('queries Params at start, at each lava_param_change and every N blocks, never twice for one block', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, log, settings, logger, host: 'h' });
    await monitor.start();
    expect(chain.paramsQueries).toEqual([10]);
    chain.versionAt.set(17, V2);
    chain.eventsAt.set(17, [CHANGE]);
    chain.height = 25; // 15 blocks arrive at once (polling): all scanned
    await expectEventually(() => expect(monitor!.status().height).toBe(25));
    expect(chain.paramsQueries).toEqual([10, 15, 17, 22]);
    expect(log.events.map((e) => [e.type, (e.data as { height: number }).height])).toEqual([
      ['VersionChanged', 10],
      ['VersionChanged', 17],
    ]);
    expect(monitor.status()).toMatchObject({ mode: 'polling', version: V2, versionHeight: 17, wsConnected: false });
  });

  it('rebuilds from the log and announces nothing for an unchanged version', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 3, previous: null, current: V1 }));
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, log, settings, logger, host: 'h' });
    await monitor.start();
    chain.height = 30;
    await expectEventually(() => expect(monitor!.status().height).toBe(30));
    expect(log.events).toHaveLength(1);
  });

  it('when another replica appended the same change first, reloads and does not duplicate it', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 3, previous: null, current: V1 }));
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, log, settings, logger, host: 'h' });
    await monitor.start();
    chain.versionAt.set(12, V2);
    chain.eventsAt.set(12, [CHANGE]);
    log.interloper = () => log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 12, previous: V1, current: V2 }, { host: 'other' }));
    chain.height = 13;
    await expectEventually(() => expect(monitor!.status().height).toBe(13));
    expect(log.events.map((e) => e.metadata.host ?? null)).toEqual([null, 'other']);
    expect(monitor.status().version).toEqual(V2);
  });

  it('records an invalid upgrade plan once while it stays, though Params keep answering well', async () => {
    const chain = new FakeChain();
    chain.planAnswer = QueryCurrentPlanResponse.encode({ plan: Plan.fromPartial({ name: '../../etc', height: 900n, info: '' }) }).finish();
    const log = new MemoryChainLog();
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, log, settings, logger, host: 'h' });
    await monitor.start();
    chain.height = 30; // four safety-net heights after the start: Params and plan queried at each
    await expectEventually(() => expect(monitor!.status().height).toBe(30));
    expect(log.events.map((e) => e.type)).toEqual(['VersionChanged', 'ChainAnomaly']);
    expect(log.events[1]!.data).toMatchObject({ kind: 'invalid_upgrade_plan', height: 10 });
  });

  it('fails over in configured order when an endpoint stops answering', async () => {
    const good = new FakeChain();
    const calls: string[] = [];
    const connector: ChainConnector = {
      rpc: (endpoint) => {
        const inner = good.rpc();
        const guard = <T>(fn: () => Promise<T>): Promise<T> => {
          calls.push(endpoint);
          return endpoint === 'http://b' || endpoint === 'http://c' ? fn() : Promise.reject(new Error('connection refused'));
        };
        return { status: () => guard(inner.status), blockEvents: (h) => guard(() => inner.blockEvents(h)), abciQuery: (p, h) => guard(() => inner.abciQuery(p, h)), close: () => undefined };
      },
      subscribe: () => Promise.reject(new Error('no WebSocket')),
    };
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a', 'http://b', 'http://c'], connector, log: new MemoryChainLog(), settings, logger, host: 'h' });
    await monitor.start();
    expect(calls.slice(0, 2)).toEqual(['http://a', 'http://b']);
    expect(calls).not.toContain('http://c');
    expect(monitor.status()).toMatchObject({ endpoint: 'http://b', preferredEndpoint: false, rpcErrors: 1 });
    expect(monitor.problems()).toContain('on fallback endpoint http://b');
  });
});
