// Attack suite (issue 13, ADR 0006), own-node confirmation: a runner configured with its own node
// (FLEETVISOR_RUNNER_CHAIN_RPC; here the devnet node, real CometBFT JSON-RPC) acts on a validly
// signed VersionChanged only once the node shows that version at the event's height. A signed event
// the node contradicts (a leaked watcher key) is refused and reported; one the node cannot answer
// for (down) is held, shown by `services list --fleet`, and acted on once the node answers.
import { spawn } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type EventEnvelope, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { startDevnetChain, type DevnetChain } from '@fleetvisor/devnet';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, freePort, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { signEvent } from '@fleetvisor/trust';
import path from 'node:path';
import type { Runner } from '../../apps/service-runner/src/runner';
import { startServiceRunner, type RunningServiceRunner } from '../../apps/service-runner/src/service-runner.module';
import { RunnerFixture } from '../../apps/service-runner/test/runner-fixture';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { serveTestIntake } from '../../apps/service-runner/test/intake';

const CLI = path.join(path.resolve(__dirname, '../..'), 'bin/fleetvisor.js');
const CHAIN = 'lava-sec-node-1';
const HOST = 'sec-node-host';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });

let db: TestDatabase;
let core: FleetCore;
let chain: DevnetChain;
let fx: RunnerFixture;
let app: RunningServiceRunner | undefined;
let runner: Runner;
let bus: ReturnType<typeof testBusNames>;
const names: string[] = [];

/** Signed by the fleet's chain-watcher key (or a leaked copy of it), appended to the log, published by the relay. */
async function signedChange(height: number, current: ProtocolVersion): Promise<EventEnvelope> {
  const e = signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous: null, current }), testTrust().signer('chain-watcher'));
  await core.store.appendToStream(`chain-${CHAIN}`, [e]);
  return e;
}

const serviceEvents = async (name: string): Promise<RecordedEvent[]> => (await core.store.readStream(`service-${HOST}/${name}`)).events;
const running = (name: string, version: string): boolean => {
  const e = runner.services.get(name)!;
  return e.svc.running && e.svc.version === version && e.svc.state === 'running';
};
const allRunning = (version: string) => waitFor(() => names.every((n) => running(n, version)), { timeoutMs: 20_000, message: `services on ${version}` });

async function servicesListFleet(): Promise<Record<string, unknown>[]> {
  const env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_LOG_LEVEL: 'warn' });
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, 'services', 'list', '--fleet', '--host', HOST, '--json', '--timeout', '5000'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>[];
}

beforeAll(async () => {
  db = await createTestDatabase('fvt_sec_node');
  bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: HOST });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'security-node-e2e', config, relay: { idleIntervalMs: 50 }, logger: pino({ level: 'silent' }) });
  core.start();
  // The runner holds no database credentials: its events reach the log through the central intake.
  await serveTestIntake(core);
  chain = await startDevnetChain({ chainId: CHAIN, blockTimeMs: 200, version: pv('0.1.0') });

  fx = new RunnerFixture(config, CHAIN, 'fv-sec-node-', [testTrust().root.publicKey]);
  for (const v of ['0.1.0', '0.2.0', '0.9.0']) fx.install(v);
  fx.setCurrent('0.1.0');
  fx.writeHomeConfig();
  names.push(fx.addService({ role: 'provider', from: 'provider1', chainLabel: 'LAV1', port: await freePort() }));
  names.push(fx.addService({ role: 'consumer', from: 'consumer', chainLabel: 'ETH1', port: await freePort() }));
  app = await startServiceRunner({ config: fx.config({}, { chainRpc: chain.rpcUrl }), logger: pino({ level: 'silent' }) });
  runner = app.runner;
  await app.bound;
  await allRunning('0.1.0');
  // The version the node has now, as the watcher would record it: confirmed, acted on.
  const first = await signedChange(chain.height(), pv('0.1.0'));
  await waitFor(() => runner.state.get().protocol?.eventId === first.id, { timeoutMs: 10_000, message: 'first version acted on' });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await chain?.stop();
  if (bus) await deleteTestStreams(bus);
  await core?.close();
  await db?.drop();
  fx?.remove();
});

describe('own-node confirmation (security)', () => {
  it('a validly signed VersionChanged whose version the node does not show at its height is refused and reported', async () => {
    const protocolBefore = runner.state.get().protocol;
    const leaked = await signedChange(chain.height(), pv('0.9.0'));
    await waitFor(() => runner.refusals.total('event') >= 1, { timeoutMs: 10_000, message: 'refused' });
    expect(runner.refusals.totals()).toEqual([{ kind: 'event', code: 'node_mismatch', count: 1 }]);
    expect(runner.state.get().protocol).toEqual(protocolBefore);
    expect(names.every((n) => running(n, '0.1.0'))).toBe(true);
    await expectEventually(async () =>
      expect((await core.store.readStream(`host-${HOST}`)).events.filter((e) => e.type === 'ForgeryRejected').map((e) => e.data)).toEqual([
        expect.objectContaining({ kind: 'event', eventId: leaked.id, refused: 1, signerName: 'test-chain-watcher', reason: expect.stringContaining('not the event\'s') }),
      ]),
    );
    const targets = (await Promise.all(names.map(serviceEvents))).flat().filter((e) => e.type === 'UpgradeStarted');
    expect(targets).toEqual([]);
  });

  it('one whose node is down is held, shown by `services list --fleet`, and acted on once the node answers', async () => {
    const { height } = await chain.setVersion(pv('0.2.0'));
    chain.faults.failResponses(Infinity, ['abci_query']);
    let real: EventEnvelope;
    try {
      real = await signedChange(height, pv('0.2.0'));
      await waitFor(() => runner.pendingVerification()?.eventId === real.id, { timeoutMs: 10_000, message: 'held' });
      expect(names.every((n) => running(n, '0.1.0'))).toBe(true);
      const rows = await servicesListFleet();
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row).toMatchObject({ host: HOST, version: '0.1.0', pendingVerification: { eventId: real.id, type: 'VersionChanged', height, attempts: expect.any(Number), nextRetryAt: expect.any(String) } });
        expect((row['pendingVerification'] as { reason: string }).reason).toMatch(/HTTP 503|error/);
      }
    } finally {
      chain.faults.reset();
    }
    await allRunning('0.2.0');
    expect(runner.pendingVerification()).toBeUndefined();
    expect(runner.state.get().protocol).toMatchObject({ height, eventId: real.id });
    // The runner's events reach the log through the intake, a moment after the switch.
    await expectEventually(async () => {
      for (const name of names) {
        const started = (await serviceEvents(name)).filter((e) => e.type === 'UpgradeStarted');
        expect(started.map((e) => [(e.data as { toVersion: string }).toVersion, e.metadata.causationId])).toEqual([['0.2.0', real!.id]]);
      }
    });
    expect(runner.refusals.total()).toBe(1);
  });
});
