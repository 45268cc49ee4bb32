// ChainMonitor with a fake chain (no socket: it polls) and an in-memory log.
import { afterEach, describe, expect, it } from 'vitest';
import { Plan } from 'cosmjs-types/cosmos/upgrade/v1beta1/upgrade';
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { encodeLavaParamsResponse } from '@fleetvisor/devnet';
import { newEventFor, VersionChanged, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { WrongExpectedVersionError } from '@fleetvisor/event-store';
import { createLogger } from '@fleetvisor/platform';
import { expectEventually } from '@fleetvisor/testing';
import type { BlockEvent, ChainConnector, ChainRpc } from '../connection/chain-rpc';
import { foldChainLog, type ChainLogStore } from '../recording/chain-log';
import { ChainMonitor } from './chain-monitor';
import { LAVA_PARAMS_PATH } from '@fleetvisor/lava';

const V1: ProtocolVersion = { providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' };
const V2: ProtocolVersion = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };
const CHANGE: BlockEvent = { type: 'lava_param_change', attributes: [{ key: 'param', value: 'Version' }] };

class FakeChain implements ChainConnector {
  height = 10;
  versionAt = new Map<number, ProtocolVersion>();
  eventsAt = new Map<number, BlockEvent[]>();
  paramsQueries: number[] = [];
  planAnswer = new Uint8Array(0);
  rpc(): ChainRpc {
    return {
      status: async () => ({ chainId: 'c1', height: this.height, time: new Date() }),
      blockEvents: async (h) => this.eventsAt.get(h) ?? [],
      abciQuery: async (path, h) => {
        if (path === LAVA_PARAMS_PATH) this.paramsQueries.push(h!);
        let v = V1;
        for (const [at, ver] of this.versionAt) if (at <= h!) v = ver;
        return { value: path === LAVA_PARAMS_PATH ? encodeLavaParamsResponse(v) : this.planAnswer, height: h! };
      },
      close: () => undefined,
    };
  }
  subscribe(): Promise<never> {
    return Promise.reject(new Error('no WebSocket here'));
  }
}

class MemoryLog implements ChainLogStore {
  events: EventEnvelope[] = [];
  /** Runs once before the next append (another replica writing meanwhile). */
  interloper: (() => void) | undefined;
  async load() {
    return foldChainLog(this.events.map((e, i) => ({ ...e, streamVersion: i + 1, globalPosition: String(i), checkpoint: `1:${i}` })), this.events.length);
  }
  async append(_chainId: string, events: EventEnvelope[], expected: number): Promise<number> {
    const run = this.interloper;
    this.interloper = undefined;
    run?.();
    if (expected !== this.events.length) throw new WrongExpectedVersionError('chain-c1', expected, this.events.length);
    this.events.push(...events);
    return this.events.length;
  }
}

const settings = { safetyNetBlocks: 5, pollIntervalMs: 5, wsRetryMinMs: 1_000, wsRetryMaxMs: 1_000, wsStallMs: 10_000, preferredProbeMs: 10_000, maxGapScan: 100 };
const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });
let monitor: ChainMonitor | undefined;
afterEach(async () => monitor?.stop());

describe('ChainMonitor', () => {
  it('queries Params at start, at each lava_param_change and every N blocks, never twice for one block', async () => {
    const chain = new FakeChain();
    const log = new MemoryLog();
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
    const log = new MemoryLog();
    log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 3, previous: null, current: V1 }));
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, log, settings, logger, host: 'h' });
    await monitor.start();
    chain.height = 30;
    await expectEventually(() => expect(monitor!.status().height).toBe(30));
    expect(log.events).toHaveLength(1);
  });

  it('when another replica appended the same change first, reloads and does not duplicate it', async () => {
    const chain = new FakeChain();
    const log = new MemoryLog();
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
    const log = new MemoryLog();
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
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a', 'http://b', 'http://c'], connector, log: new MemoryLog(), settings, logger, host: 'h' });
    await monitor.start();
    expect(calls.slice(0, 2)).toEqual(['http://a', 'http://b']);
    expect(calls).not.toContain('http://c');
    expect(monitor.status()).toMatchObject({ endpoint: 'http://b', preferredEndpoint: false, rpcErrors: 1 });
    expect(monitor.problems()).toContain('on fallback endpoint http://b');
  });
});
