// ChainMonitor with a fake chain (no socket: it polls) and an in-memory log.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Plan } from 'cosmjs-types/cosmos/upgrade/v1beta1/upgrade';
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { newEventFor, UpgradePlanned, VersionChanged } from '@fleetvisor/contracts';
import { createLogger } from '@fleetvisor/platform';
import { expectEventually, testTrust } from '@fleetvisor/testing';
import { FakeChain, MemoryChainLog, MemoryCheckpoints, V1, V2, V3, VERSION_CHANGE } from '../../test/fakes';
import { RpcAnswerError, type ChainConnector } from '../connection/chain-rpc';
import { verifyEvent } from '@fleetvisor/trust';
import { ChainMonitor } from './chain-monitor';

const CHANGE = VERSION_CHANGE;
const settings = { safetyNetBlocks: 5, pollIntervalMs: 5, wsRetryMinMs: 1_000, wsRetryMaxMs: 1_000, wsStallMs: 10_000, preferredProbeMs: 10_000, maxGapScan: 100, backfillRps: 1_000 };
const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });
const signer = testTrust().signer('chain-watcher');
let monitor: ChainMonitor | undefined;
let checkpoints: MemoryCheckpoints;
beforeEach(() => {
  checkpoints = new MemoryCheckpoints();
});
afterEach(async () => monitor?.stop());

describe('ChainMonitor', () => {
  it('queries Params at start, at each lava_param_change and every N blocks, never twice for one block', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
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
    // Each recorded as signed by the chain-watcher key: what hosts verify before acting.
    for (const e of log.events) expect(verifyEvent(e, testTrust().verifier(), 'chain-watcher')).toMatchObject({ ok: true, identity: { name: 'test-chain-watcher' } });
  });

  it('rebuilds from the log and announces nothing for an unchanged version', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 3, previous: null, current: V1 }));
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    chain.height = 30;
    await expectEventually(() => expect(monitor!.status().height).toBe(30));
    expect(log.events).toHaveLength(1);
  });

  it('when another replica appended the same change first, reloads and does not duplicate it', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 3, previous: null, current: V1 }));
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    chain.versionAt.set(12, V2);
    chain.eventsAt.set(12, [CHANGE]);
    log.interloper = () => log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 12, previous: V1, current: V2 }, { host: 'other' }));
    chain.height = 13;
    await expectEventually(() => expect(monitor!.status().height).toBe(13));
    expect(log.events.map((e) => e.metadata.host ?? null)).toEqual([null, 'other']);
    expect(monitor.status().version).toEqual(V2);
    // Decided on the state in memory (no read), refused, read again, decided again: nothing left to record.
    expect(log.appends).toEqual([{ expectedVersion: 1 }]);
    expect(log.reads).toBe(2);
  });

  it('when another replica appended something else first, decides again on it and records the change once, at the new version', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    log.events.push(newEventFor(VersionChanged, { chainId: 'c1', height: 3, previous: null, current: V1 }));
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    // A bad answer at 12: its anomaly is decided on the first attempt, refused, and must still be recorded on the second.
    chain.versionAt.set(12, { ...V2, providerTarget: 'v0.23.2' });
    chain.eventsAt.set(12, [CHANGE]);
    log.interloper = () => log.events.push(newEventFor(UpgradePlanned, { chainId: 'c1', name: 'v9', height: 900, info: '' }, { host: 'other' }));
    chain.height = 30; // safety-net queries at 17, 22, 27 get the same bad answer: not recorded again
    await expectEventually(() => expect(monitor!.status().height).toBe(30));
    expect(log.events.map((e) => [e.type, e.metadata.host ?? null])).toEqual([
      ['VersionChanged', null],
      ['UpgradePlanned', 'other'],
      ['ChainAnomaly', 'h'],
    ]);
    expect(log.events[2]!.data).toMatchObject({ kind: 'invalid_version', height: 12 });
    expect(log.appends).toEqual([{ expectedVersion: 1 }, { expectedVersion: 2 }]);
    expect(chain.paramsQueries.filter((h) => h > 12)).toEqual([17, 22, 27]);
  });

  it('records an invalid upgrade plan once while it stays, though Params keep answering well', async () => {
    const chain = new FakeChain();
    chain.planAnswer = QueryCurrentPlanResponse.encode({ plan: Plan.fromPartial({ name: '../../etc', height: 900n, info: '' }) }).finish();
    const log = new MemoryChainLog();
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
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
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a', 'http://b', 'http://c'], connector, store: new MemoryChainLog(), signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    expect(calls.slice(0, 2)).toEqual(['http://a', 'http://b']);
    expect(calls).not.toContain('http://c');
    expect(monitor.status()).toMatchObject({ endpoint: 'http://b', preferredEndpoint: false, rpcErrors: 1 });
    expect(monitor.problems()).toContain('on fallback endpoint http://b');
  });

  const heights = (log: MemoryChainLog) => log.events.map((e) => [e.type, (e.data as { height: number }).height]);
  const recorded = (chainId = 'c1', height = 3) => newEventFor(VersionChanged, { chainId, height, previous: null, current: V1 });

  it('after downtime, records every change made meanwhile at its own height, in order, once', async () => {
    const chain = new FakeChain();
    chain.height = 30;
    chain.versionAt.set(14, V2).set(16, V3);
    chain.eventsAt.set(14, [CHANGE]).set(16, [CHANGE]);
    const log = new MemoryChainLog();
    log.events.push(recorded());
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    await expectEventually(() => expect(monitor!.status().height).toBe(30));
    expect(heights(log)).toEqual([
      ['VersionChanged', 3],
      ['VersionChanged', 14],
      ['VersionChanged', 16],
    ]);
    expect(log.events.slice(1).map((e) => e.data)).toEqual([
      { chainId: 'c1', height: 14, previous: V1, current: V2 },
      { chainId: 'c1', height: 16, previous: V2, current: V3 },
    ]);
    expect(chain.blockResultsCalls).toEqual(Array.from({ length: 27 }, (_, i) => 4 + i));

    // A second start (takeover) resumes after height 16: nothing recorded twice.
    await monitor.stop();
    chain.height = 33;
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    await expectEventually(() => expect(monitor!.status().height).toBe(33));
    expect(log.events).toHaveLength(3);
  });

  it('a change no block event explains (read Params only) is bisected to the height that carried it', async () => {
    const chain = new FakeChain();
    chain.height = 200;
    chain.versionAt.set(57, V2).set(150, V3);
    const log = new MemoryChainLog();
    log.events.push(recorded());
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings: { ...settings, maxGapScan: 20 }, logger, host: 'h' });
    await monitor.start();
    await expectEventually(() => expect(monitor!.status().height).toBe(200));
    expect(heights(log)).toEqual([
      ['VersionChanged', 3],
      ['VersionChanged', 57],
      ['VersionChanged', 150],
    ]);
    // Blocks 4..180 were not scanned one by one: only the last 20 were.
    expect(chain.blockResultsCalls).toEqual(Array.from({ length: 20 }, (_, i) => 181 + i));
  });

  it('blocks the node no longer serves: the change is recorded at the first height it shows, after an anomaly naming them', async () => {
    const chain = new FakeChain();
    chain.height = 60;
    chain.earliest = 40;
    chain.versionAt.set(30, V2);
    const log = new MemoryChainLog();
    log.events.push(recorded());
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    await expectEventually(() => expect(monitor!.status().height).toBe(60));
    expect(heights(log)).toEqual([
      ['VersionChanged', 3],
      ['ChainAnomaly', 40],
      ['VersionChanged', 40],
    ]);
    expect((log.events[1]!.data as { reason: string }).reason).toMatch(/blocks 4\.\.39 .*recorded at 40/);
    expect(chain.blockResultsCalls.every((h) => h >= 40)).toBe(true);
  });

  it('a gap in the blocks seen (a poll that jumped heights) loses no change: scanned up to the bound, bisected beyond it', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings: { ...settings, safetyNetBlocks: 1_000 }, logger, host: 'h' });
    await monitor.start();
    // 280 blocks at once, over a scan bound of 100: two changes in the older part, two in the scanned part.
    chain.versionAt.set(120, V2).set(150, V3).set(274, V1).set(276, V2);
    for (const h of [120, 150, 274, 276]) chain.eventsAt.set(h, [CHANGE]);
    chain.height = 290;
    await expectEventually(() => expect(monitor!.status().height).toBe(290));
    expect(log.events.map((e) => [(e.data as { height: number }).height, (e.data as { current: unknown }).current])).toEqual([
      [10, V1],
      [120, V2],
      [150, V3],
      [274, V1],
      [276, V2],
    ]);
    expect(chain.blockResultsCalls.filter((h) => h > 10)).toEqual(Array.from({ length: 100 }, (_, i) => 191 + i));
  });

  it('a node that has not got a block yet is asked again, not taken for one that lost it', async () => {
    const chain = new FakeChain();
    const log = new MemoryChainLog();
    let behind = 2;
    const connector: ChainConnector = {
      rpc: () => {
        const inner = chain.rpc();
        return {
          ...inner,
          blockEvents: (h) =>
            h === 12 && behind-- > 0 ? Promise.reject(new RpcAnswerError('height 12 must be less than or equal to the current blockchain height 11', {})) : inner.blockEvents(h),
        };
      },
      subscribe: () => Promise.reject(new Error('no WebSocket')),
    };
    monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector, store: log, signer, checkpoints, settings, logger, host: 'h' });
    await monitor.start();
    chain.versionAt.set(12, V2);
    chain.eventsAt.set(12, [CHANGE]);
    chain.height = 13;
    await expectEventually(() => expect(monitor!.status().height).toBe(13));
    expect(heights(log)).toEqual([
      ['VersionChanged', 10],
      ['VersionChanged', 12],
    ]);
    expect(chain.paramsQueries).toEqual([10, 12]);
  });

  describe('scan checkpoint', () => {
    const name = 'chain-watcher:scanned:c1';
    const start = async (chain: FakeChain, log: MemoryChainLog): Promise<ChainMonitor> => {
      monitor = new ChainMonitor({ chainId: 'c1', endpoints: ['http://a'], connector: chain, store: log, signer, checkpoints, settings, logger, host: 'h' });
      await monitor.start();
      return monitor;
    };

    it('is saved where Params confirm the record, and a restart scans only the blocks after it', async () => {
      const chain = new FakeChain();
      chain.height = 30;
      const log = new MemoryChainLog();
      log.events.push(recorded());
      await start(chain, log);
      await expectEventually(() => expect(monitor!.status().height).toBe(30));
      // Params at 5, 10, ... 30 (safety net) each confirm the version on the record.
      expect(checkpoints.saves.map(([, v]) => v)).toEqual(['5:1', '10:1', '15:1', '20:1', '25:1', '30:1']);
      await monitor!.stop();

      chain.versionAt.set(35, V2);
      chain.eventsAt.set(35, [CHANGE]);
      chain.height = 40;
      chain.blockResultsCalls = [];
      await start(chain, log);
      await expectEventually(() => expect(monitor!.status().height).toBe(40));
      expect(chain.blockResultsCalls).toEqual([31, 32, 33, 34, 35, 36, 37, 38, 39, 40]);
      expect(heights(log)).toEqual([
        ['VersionChanged', 3],
        ['VersionChanged', 35],
      ]);
      expect(checkpoints.values.get(name)).toBe('40:2');
    });

    it('a checkpoint saved on a longer log (database restored behind it) is not used: changes since the record are scanned, even one undone since', async () => {
      const chain = new FakeChain();
      chain.height = 30;
      chain.versionAt.set(14, V2).set(16, V1);
      chain.eventsAt.set(14, [CHANGE]).set(16, [CHANGE]);
      const log = new MemoryChainLog();
      log.events.push(recorded());
      checkpoints.values.set(name, '28:3');
      await start(chain, log);
      await expectEventually(() => expect(monitor!.status().height).toBe(30));
      expect(heights(log)).toEqual([
        ['VersionChanged', 3],
        ['VersionChanged', 14],
        ['VersionChanged', 16],
      ]);
      expect(chain.blockResultsCalls).toEqual(Array.from({ length: 27 }, (_, i) => 4 + i));
      // Replaced at once, so a log grown back to 3 events cannot make it look valid.
      expect(checkpoints.saves[0]).toEqual([name, '3:1']);
      expect(checkpoints.values.get(name)).toBe('30:3');
    });

    it('a checkpoint the chain does not bear out hides no change still in effect: Params after it differ, the change is bisected to its height', async () => {
      const chain = new FakeChain();
      chain.height = 30;
      // 14 without an event (only Params show it); 26, the first block after the checkpoint, with one.
      chain.versionAt.set(14, V2).set(26, V3);
      chain.eventsAt.set(26, [CHANGE]);
      const log = new MemoryChainLog();
      log.events.push(recorded());
      checkpoints.values.set(name, '25:1');
      await start(chain, log);
      await expectEventually(() => expect(monitor!.status().height).toBe(30));
      expect(log.events.slice(1).map((e) => e.data)).toEqual([
        { chainId: 'c1', height: 14, previous: V1, current: V2 },
        { chainId: 'c1', height: 26, previous: V2, current: V3 },
      ]);
      expect(chain.blockResultsCalls).toEqual([26, 27, 28, 29, 30]);
      expect(chain.paramsQueries[0]).toBe(26);
    });

    it('never gets ahead of the record: a block whose append failed is not covered until it is recorded', async () => {
      const chain = new FakeChain();
      const log = new MemoryChainLog();
      log.events.push(recorded());
      await start(chain, log);
      await expectEventually(() => expect(monitor!.status().height).toBe(10));
      chain.versionAt.set(12, V2);
      chain.eventsAt.set(12, [CHANGE]);
      log.failNextAppend = new Error('connection terminated');
      chain.height = 13;
      await expectEventually(() => expect(monitor!.status().height).toBe(13));
      expect(log.appends).toHaveLength(2);
      expect(checkpoints.saves.map(([, v]) => v)).toEqual(['5:1', '10:1', '12:2']);
    });
  });
});
