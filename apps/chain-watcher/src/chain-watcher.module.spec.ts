// The chain-watcher's Nest wiring, without servers: ChainWatcherModule compiled by @nestjs/testing
// with its seams overridden (chain client, chain log, scan checkpoints, leader locks; FleetCore with a CommandBus on a
// loopback NATS connection), served by the real FleetTransport. Each command goes the way a request
// from the CLI goes: CommandBus -> transport -> controller -> ChainWatcher -> ChainMonitor -> fakes,
// and back as a CommandReply checked against the contract.
import 'reflect-metadata';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ChainLeaderStatus, ChainStatus, createSubjects, EventIntakeAppend } from '@fleetvisor/contracts';
import { CommandBus, FLEET_CORE, FleetRpcExceptionFilter, FleetTransport, validationError, type FleetCore } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import { expectEventually, testBusNames, testCoreConfig, testTrust } from '@fleetvisor/testing';
import { FakeChain, FreeLeaderLock, loopbackNats, MemoryChainLog, MemoryCheckpoints, V1 } from '../test/fakes';
import { watcherConfig } from '../test/watcher-harness';
import { CHAIN_CONNECTORS, CHAIN_LEADER_LOCKS, CHAIN_LOG, CHAIN_SCAN_CHECKPOINTS, ChainWatcherLifecycle, ChainWatcherModule } from './chain-watcher.module';
import type { WatcherHealth } from './chain-watcher';
import { ChainWatcherMetrics } from './health/metrics';

const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });

describe('ChainWatcherModule wiring (seams overridden, FleetTransport on a loopback bus)', () => {
  let app: INestMicroservice;
  let chain: FakeChain;
  let chainLog: MemoryChainLog;
  let checkpoints: MemoryCheckpoints;
  let bus: CommandBus;
  const lockNames: string[] = [];

  beforeEach(async () => {
    chain = new FakeChain('c1');
    chainLog = new MemoryChainLog();
    checkpoints = new MemoryCheckpoints();
    const core = testCoreConfig('postgres://unused', testBusNames(), { host: 'cw-wiring' });
    const subjects = createSubjects(core.subjectRoot);
    const nc = loopbackNats();
    bus = new CommandBus({ nc, subjects, logger });
    // Only what the module and the transport use of a FleetCore when the seams are overridden.
    const fleetCore = { config: core, logger, subjects, nc, commands: bus, start: () => undefined, serveHealth: async () => undefined, close: async () => undefined } as unknown as FleetCore;
    const config = watcherConfig(core, [{ chainId: 'c1', endpoints: ['http://chain-a:26657'] }], testTrust().signer('chain-watcher'), { pollIntervalMs: 20 });

    const moduleRef = await Test.createTestingModule({ imports: [ChainWatcherModule.forRoot(config, { defaultMetrics: false })] })
      .overrideProvider(FLEET_CORE)
      .useValue(fleetCore)
      .overrideProvider(CHAIN_CONNECTORS)
      .useValue(() => chain)
      .overrideProvider(CHAIN_LOG)
      .useValue(chainLog)
      .overrideProvider(CHAIN_SCAN_CHECKPOINTS)
      .useValue(checkpoints)
      .overrideProvider(CHAIN_LEADER_LOCKS)
      .useValue((name: string) => (lockNames.push(name), new FreeLeaderLock()))
      .compile();
    app = moduleRef.createNestMicroservice({ strategy: new FleetTransport(fleetCore, { serviceName: 'chain-watcher' }) });
    app.useGlobalFilters(new FleetRpcExceptionFilter());
    await app.listen();
  });

  afterEach(async () => {
    await app?.close();
  });

  it('chain-watcher.status reaches the watcher and replies with the leader view in the contract shape', async () => {
    const reply = await expectEventually(async () => {
      const r = await bus.request(ChainStatus, {});
      expect(r.ok && r.result?.chains[0]?.height).toBe(10);
      return r;
    });
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    expect(validationError(ChainStatus.result, reply.result, 'result')).toBeUndefined();
    expect(reply.result?.chains).toEqual([
      expect.objectContaining({ chainId: 'c1', mode: 'polling', leaderHost: 'cw-wiring', height: 10, version: V1, versionHeight: 10, endpoint: 'http://chain-a:26657', wsConnected: false }),
    ]);
    // The seams were the ones given: the chain was asked, the log written, the lock taken by name.
    expect(chain.paramsQueries).toEqual([10]);
    expect(chainLog.events.map((e) => e.type)).toEqual(['VersionChanged']);
    expect(checkpoints.values.get('chain-watcher:scanned:c1')).toBe('10:1');
    expect(lockNames).toEqual(['chain-watcher:c1']);
  });

  it('keeps the error codes of the logic and refuses a request the contract refuses', async () => {
    await expectEventually(async () => expect((await bus.request(ChainStatus, { chainId: 'c1' })).ok).toBe(true));
    expect(await bus.request(ChainStatus, { chainId: 'c9' })).toEqual({ ok: false, error: { code: 'not_found', message: 'chain c9 is not watched (watched: c1)' } });
    const unchecked = await bus.request({ service: 'chain-watcher', verb: 'status' }, { chainId: 42 });
    expect(unchecked).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
  });

  it("serves the hosts' event intake (FleetCoreModule eventIntake) and counts its refusals on /metrics", async () => {
    const reply = await bus.request(EventIntakeAppend, { host: 'h2', events: [{}] }, { scope: 'h1' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('the subject is for "h1"') } });
    const text = await app.get(ChainWatcherMetrics).registry.metrics();
    expect(text).toContain('fleetvisor_event_intake_refused_total{reason="host_mismatch"} 1');
  });

  it('answers leader-status for the chain it leads, and stays silent for a chain it does not lead', async () => {
    const reply = await expectEventually(async () => {
      const r = await bus.request(ChainLeaderStatus, { chainId: 'c1' }, { timeoutMs: 1_000 });
      expect(r.ok && r.result?.height).toBe(10);
      return r;
    });
    expect(reply.ok && reply.result).toMatchObject({ chainId: 'c1', leaderHost: 'cw-wiring', version: V1 });
    // Another replica may lead c9: a refusal from this one would read as that chain's answer.
    const silent = await bus.request(ChainLeaderStatus, { chainId: 'c9' }, { timeoutMs: 300 });
    expect(silent.ok).toBe(false);
    expect(silent.ok ? undefined : silent.error.code).not.toBe('not_found');
  });

  it('starts the health server with the watcher and stops serving on close', async () => {
    const port = app.get(ChainWatcherLifecycle).httpPort;
    const health = await expectEventually(async () => {
      const h = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as WatcherHealth;
      expect(h.chains[0]?.leader).toBe(true);
      return h;
    });
    expect(health).toMatchObject({ status: 'degraded', host: 'cw-wiring', reasons: ['c1: WebSocket down: polling'] });
    await app.close();
    expect(await bus.request(ChainStatus, {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
