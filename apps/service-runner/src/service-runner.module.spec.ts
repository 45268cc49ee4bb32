// Wiring of the service-runner's Nest shell, without NATS or processes: Test.createTestingModule
// with the Runner and the edge bus overridden, FleetTransport over a recording bus. Checked here
// is what only the wiring decides: the subjects (addressed to the host, and fleet-wide), the
// durable VersionChanged consumer named after the host and filtered to the runner's chain, that
// requests and events reach the runner through Nest, and that the lifecycle starts and stops it.
import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Test } from '@nestjs/testing';
import type { INestMicroservice } from '@nestjs/common';
import { newEvent, UpgradeStarted, VersionChanged, type EventEnvelope, type ServiceStatus, type ServiceSummary, type ServiceUpgrades } from '@fleetvisor/contracts';
import { CommandFailure, FLEET_EDGE_BUS, FleetRpcExceptionFilter, FleetTransport } from '@fleetvisor/messaging';
import { testCoreConfig, testBusNames, testTrust } from '@fleetvisor/testing';
import { RecordingBus } from '@fleetvisor/messaging/testing';
import { FAST_TUNING } from '../test/runner-fixture';
import type { Runner } from './runner';
import { UpgradeRequestError } from './upgrades/upgrade-coordinator';
import { RUNNER } from './service-runner.controller';
import { runnerTransportOptions, ServiceRunnerModule } from './service-runner.module';

const logger = pino({ level: 'silent' });
const summary: ServiceSummary = { service: 'p1', role: 'provider', chainId: 'lava-1', binary: 'lavap', version: '0.1.0', state: 'running', restarts: 0 };

const started = newEvent(UpgradeStarted, 'host.eu-1/p1', { host: 'host.eu-1', service: 'p1', fromVersion: '0.1.0', toVersion: '0.3.0', reason: 'provider_target 0.3.0' }, { actor: 'service-runner', causationId: '01890000-0000-7000-8000-000000000001' });

class FakeRunner {
  readonly host = 'host.eu-1';
  // What `upgrades show` reads of a runner: its services, coordinator, state, event stream and spool.
  readonly services = new Map([['p1', { svc: { version: '0.1.0' as string | undefined } }]]);
  readonly coordinator = { upgradesOf: (name: string) => (name === 'p1' ? upgrades : undefined) };
  readonly state = { get: () => ({ protocol: null, inProgress: {}, quarantine: {}, lastGood: { p1: '0.1.0' } }) };
  historySource() {
    return { events: async () => [started] };
  }
  readonly spool = { pending: () => [] };
  readonly calls: string[] = [];
  readonly versions: EventEnvelope[] = [];
  constructor(readonly chainId: string | undefined) {}
  async start(): Promise<void> {
    this.calls.push('start');
  }
  async stop(): Promise<void> {
    this.calls.push('stop');
  }
  list(chainId?: string): ServiceSummary[] {
    return !chainId || chainId === summary.chainId ? [summary] : [];
  }
  status(name: string): ServiceStatus | undefined {
    return name === 'p1' ? { ...summary, configPath: '/c/p1.yml' } : undefined;
  }
  onVersionChanged(e: EventEnvelope): void {
    this.versions.push(e);
  }
  upgrades(): ServiceUpgrades[] {
    return [upgrades];
  }
  retryUpgrade(service: string, version: string | undefined, by: { actor: string } | undefined): { host: string; service: string; lifted: string[] } {
    this.calls.push(`retry ${service} ${version ?? '*'} by ${by?.actor ?? '?'}`);
    if (service !== 'p1') throw new UpgradeRequestError('not_found', `no service ${service} on host.eu-1; it has: p1`);
    return { host: this.host, service, lifted: ['0.3.0'] };
  }
  async rollbackUpgrade(service: string, version: string, by: { actor: string } | undefined): Promise<{ host: string; service: string; fromVersion: string; version: string; outcome: 'switched' }> {
    this.calls.push(`rollback ${service} ${version} by ${by?.actor ?? '?'}`);
    return { host: this.host, service, fromVersion: '0.3.0', version, outcome: 'switched' };
  }
}
const upgrades: ServiceUpgrades = { service: 'p1', role: 'provider', binary: 'lavap', running: '0.1.0', linked: '0.1.0', installed: ['0.3.0', '0.1.0'], quarantined: [{ version: '0.3.0', stage: 'health', reason: 'no TCP answer', at: '2026-01-01T00:00:00.000Z' }] };

let app: INestMicroservice | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function wired(mode: 'start' | 'wrap' | 'wrap-following'): Promise<{ bus: RecordingBus; runner: FakeRunner }> {
  const runner = new FakeRunner(mode === 'wrap' ? undefined : 'lava-1');
  const config = { core: testCoreConfig('postgres://unused', testBusNames(), { host: runner.host }), directory: '/nowhere', tuning: FAST_TUNING, secretsPassphrase: undefined, secretsKeyFile: undefined, platform: 'linux/amd64', childEnvironment: { PATH: '/usr/bin:/bin' }, connectionSettings: {}, upStateDir: '/nowhere/up-state', trust: { roots: [testTrust().root.publicKey] }, chainRpc: undefined, liveRestore: true };
  const wrapped =
    mode === 'wrap'
      ? { wrapped: [{ name: 'w', role: 'wrapped' as const, binary: 'sleep', configPath: '/bin/sleep', args: [], keyringPassword: false }] }
      : mode === 'wrap-following'
        ? { wrapped: [{ name: 'w', role: 'provider' as const, binary: 'lavap', configPath: '/c/p.yml', args: ['rpcprovider', '/c/p.yml'], keyringPassword: false }], followChain: true }
        : {};
  const moduleRef = await Test.createTestingModule({ imports: [ServiceRunnerModule.forRoot({ config, logger, ...wrapped })] })
    .overrideProvider(RUNNER)
    .useValue(runner)
    .overrideProvider(FLEET_EDGE_BUS)
    .useValue({ current: undefined, ready: () => new Promise(() => undefined), serveHealth: async () => undefined, close: async () => undefined })
    .compile();
  const bus = new RecordingBus(logger);
  app = moduleRef.createNestMicroservice({ strategy: new FleetTransport(bus, runnerTransportOptions(runner as unknown as Runner)) });
  app.useGlobalFilters(new FleetRpcExceptionFilter());
  await app.listen();
  return { bus, runner };
}

describe('service-runner wiring', () => {
  it('serves list and status addressed to the host and fleet-wide, and follows VersionChanged of its chain on a durable named after the host', async () => {
    const { bus, runner } = await wired('start');
    expect(runner.calls).toEqual(['start']);
    expect(bus.served.map((s) => `${s.subject}${s.opts.broadcast ? ' (broadcast)' : ''}`).sort()).toEqual([
      'fleet.cmd.service-runner.host%2Eeu-1.control',
      'fleet.cmd.service-runner.host%2Eeu-1.list',
      'fleet.cmd.service-runner.host%2Eeu-1.logs',
      'fleet.cmd.service-runner.host%2Eeu-1.status',
      'fleet.cmd.service-runner.host%2Eeu-1.upgrades-list',
      'fleet.cmd.service-runner.host%2Eeu-1.upgrades-retry',
      'fleet.cmd.service-runner.host%2Eeu-1.upgrades-rollback',
      'fleet.cmd.service-runner.host%2Eeu-1.upgrades-show',
      'fleet.cmd.service-runner.list (broadcast)',
      'fleet.cmd.service-runner.status (broadcast)',
      'fleet.cmd.service-runner.upgrades-list (broadcast)',
    ]);
    expect(bus.consumed.map((c) => ({ name: c.name, filter: c.filter }))).toEqual([{ name: 'service-runner-host_eu-1', filter: ['fleet.evt.chain.lava-1.VersionChanged'] }]);

    const e = newEvent(VersionChanged, 'lava-1', { chainId: 'lava-1', height: 5, previous: null, current: { providerTarget: '0.2.0', providerMin: '0.1.0', consumerTarget: '0.2.0', consumerMin: '0.1.0' } });
    await bus.deliver('service-runner-host_eu-1', e);
    expect(runner.versions).toEqual([e]);
  });

  it('answers through the plain answers: addressed always, fleet-wide only for itself', async () => {
    const { bus } = await wired('start');
    const at = 'fleet.cmd.service-runner.host%2Eeu-1';
    expect(await bus.request(`${at}.list`, {})).toEqual({ host: 'host.eu-1', services: [summary] });
    expect(await bus.request(`${at}.status`, { service: 'p1' })).toMatchObject({ host: 'host.eu-1', status: { service: 'p1', configPath: '/c/p1.yml' } });
    await expect(bus.request(`${at}.status`, { service: 'nope' })).rejects.toEqual(new CommandFailure('not_found', 'no service nope on host.eu-1; it has: p1'));
    expect(await bus.request('fleet.cmd.service-runner.list', { chainId: 'lava-1' }, { broadcast: true })).toEqual({ host: 'host.eu-1', services: [summary] });
    expect(await bus.request('fleet.cmd.service-runner.list', { host: 'other' }, { broadcast: true })).toBeUndefined();
    expect(await bus.request('fleet.cmd.service-runner.status', { service: 'nope' }, { broadcast: true })).toBeUndefined();
  });

  it('upgrades: list addressed and fleet-wide; retry only addressed, with the verified signer as actor, refusals as command failures', async () => {
    const { bus, runner } = await wired('start');
    const at = 'fleet.cmd.service-runner.host%2Eeu-1';
    expect(await bus.request(`${at}.upgrades-list`, {})).toEqual({ host: 'host.eu-1', services: [upgrades] });
    expect(await bus.request('fleet.cmd.service-runner.upgrades-list', {}, { broadcast: true })).toEqual({ host: 'host.eu-1', services: [upgrades] });
    expect(await bus.request('fleet.cmd.service-runner.upgrades-list', { host: 'other' }, { broadcast: true })).toBeUndefined();
    expect(await bus.request(`${at}.upgrades-retry`, { service: 'p1' }, { signer: { name: 'alice@ops', role: 'operate' } })).toEqual({ host: 'host.eu-1', service: 'p1', lifted: ['0.3.0'] });
    expect(runner.calls).toContain('retry p1 * by alice@ops');
    expect(await bus.request(`${at}.upgrades-rollback`, { service: 'p1', version: '0.1.0' }, { signer: { name: 'bob', role: 'admin' } })).toEqual({ host: 'host.eu-1', service: 'p1', fromVersion: '0.3.0', version: '0.1.0', outcome: 'switched' });
    expect(runner.calls).toContain('rollback p1 0.1.0 by bob');
    await expect(bus.request(`${at}.upgrades-retry`, { service: 'nope' })).rejects.toEqual(new CommandFailure('not_found', 'no service nope on host.eu-1; it has: p1'));
  });

  it('upgrades show: addressed only, answered from the runner with its history from the log; unknown service as not_found', async () => {
    const { bus } = await wired('start');
    const at = 'fleet.cmd.service-runner.host%2Eeu-1';
    expect(await bus.request(`${at}.upgrades-show`, { service: 'p1' })).toEqual({
      host: 'host.eu-1',
      upgrades,
      lastGood: '0.1.0',
      history: [{ eventId: started.id, type: 'UpgradeStarted', at: started.occurredAt, actor: 'service-runner', causationId: '01890000-0000-7000-8000-000000000001', fromVersion: '0.1.0', toVersion: '0.3.0', reason: 'provider_target 0.3.0' }],
      historyFrom: 'stream',
    });
    await expect(bus.request(`${at}.upgrades-show`, { service: 'nope' })).rejects.toEqual(new CommandFailure('not_found', 'no service nope on host.eu-1; it has: p1'));
  });

  it('wrap following the chain (wrap of lavap, pod): the VersionChanged consumer and the upgrades commands, as for start', async () => {
    const { bus } = await wired('wrap-following');
    expect(bus.consumed.map((c) => c.name)).toEqual(['service-runner-host_eu-1']);
    expect(bus.served.map((s) => s.subject)).toContain('fleet.cmd.service-runner.host%2Eeu-1.upgrades-show');
  });

  it('wrap follows no chain: no VersionChanged consumer; the runner stops with the app', async () => {
    const { bus, runner } = await wired('wrap');
    expect(bus.consumed).toEqual([]);
    // list and status (addressed and fleet-wide), control and logs (addressed).
    expect(bus.served).toHaveLength(6);
    await app!.close();
    app = undefined;
    expect(runner.calls).toEqual(['start', 'stop']);
  });
});
