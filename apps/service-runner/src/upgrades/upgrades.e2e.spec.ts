// The runner with real child processes (fake lavap binaries), the real log and the real bus: a
// VersionChanged appended to the log reaches the runner through the relay and JetStream.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestDatabase, expectEventually, freePort, testBusNames, testCoreConfig, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import type { Runner } from '../runner';
import { startServiceRunner, type RunningServiceRunner } from '../service-runner.module';
import { serveTestIntake } from '../../test/intake';
import { RunnerFixture } from '../../test/runner-fixture';
import { fakeLavapScript, sha256Hex } from '@fleetvisor/devnet';

const CHAIN = 'lava-e2e-1';
const silent = pino({ level: 'silent' });
const pv = (provider: string, consumer = provider, min = '0.1.0'): ProtocolVersion => ({ providerTarget: provider, providerMin: min, consumerTarget: consumer, consumerMin: min });

let db: TestDatabase;
let core: FleetCore;
let fx: RunnerFixture;
let runner: Runner;
let app: RunningServiceRunner | undefined;
let http: Server;
let httpUrl: string;
let height = 10;
let previous: ProtocolVersion | null = null;
const served = new Map<string, string | Buffer>();

async function versionChanged(current: ProtocolVersion): Promise<void> {
  height += 10;
  await core.store.appendToStream(`chain-${CHAIN}`, [newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous, current })]);
  previous = current;
}

async function serviceEvents(name: string): Promise<RecordedEvent[]> {
  return (await core.store.readStream(`service-${fx.core.host}/${name}`)).events;
}

function running(name: string, version: string): boolean {
  const e = runner.services.get(name)!;
  return e.svc.running && e.svc.version === version && e.svc.state === 'running';
}

const names: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase('fvt_runner');
  const bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: 'host-e2e' });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'runner-e2e', config, relay: { idleIntervalMs: 50 }, logger: silent });
  core.start();
  // The central event intake: the runner holds no database credentials and sends its events here.
  await serveTestIntake(core);
  http = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

  fx = new RunnerFixture(config, CHAIN);
  fx.install('0.1.0');
  fx.install('0.2.0');
  fx.install('0.3.0', 'crash-at-start');
  fx.install('0.5.0', 'no-listen');
  fx.setCurrent('0.1.0');
  fx.writeHomeConfig({ download: { manifestUrl: `${httpUrl}/releases/v{version}/manifest.json` }, upgrade: { probe: 'tcp' } });
  names.push(fx.addService({ role: 'provider', from: 'provider1', chainLabel: 'LAV1', port: await freePort() }));
  names.push(fx.addService({ role: 'consumer', from: 'consumer', chainLabel: 'ETH1', port: await freePort() }));
  await versionChanged(pv('0.1.0'));
  app = await startServiceRunner({ config: fx.config(), logger: silent });
  runner = app.runner;
  await waitFor(() => names.every((n) => running(n, '0.1.0')), { timeoutMs: 15_000, message: 'services up on 0.1.0' });
});

afterAll(async () => {
  await app?.close();
  if (core) for (const name of [core.config.eventStreamName, `${core.config.eventStreamName}_DLQ`]) await core.jsm.streams.delete(name).catch(() => undefined);
  await core?.close();
  await new Promise((r) => http?.close(r));
  await db?.drop();
  fx?.remove();
});

describe('service runner upgrades (real processes, log, bus)', () => {
  it('records ServiceCreated and ServiceStarted for each service through the spool', async () => {
    for (const n of names) {
      await expectEventually(async () => expect((await serviceEvents(n)).map((e) => e.type).slice(0, 2)).toEqual(['ServiceCreated', 'ServiceStarted']), { timeoutMs: 10_000 });
    }
    // The intake's reply (after which the files go) may come a moment after the log shows the events.
    await waitFor(() => runner.spool.count() === 0, { timeoutMs: 10_000, message: 'spool emptied once the intake confirmed' });
  });

  it('a version bump moves every matching service to the new binary, one at a time, events in order', async () => {
    const before = await Promise.all(names.map(async (n) => (await serviceEvents(n)).length));
    await versionChanged(pv('0.2.0'));
    await waitFor(() => names.every((n) => running(n, '0.2.0')), { timeoutMs: 20_000, message: 'services on 0.2.0' });
    for (const [i, n] of names.entries()) {
      await expectEventually(async () => {
        const evs = (await serviceEvents(n)).slice(before[i]);
        expect(evs.map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceExited', 'ServiceStarted', 'ServiceUpgraded']);
        expect(evs[0]!.data).toMatchObject({ fromVersion: '0.1.0', toVersion: '0.2.0', chainId: CHAIN });
        expect(evs[1]!.data).toMatchObject({ expected: true });
        expect(evs[2]!.data).toMatchObject({ version: '0.2.0' });
        expect(evs[0]!.metadata.correlationId).toBe(evs[3]!.metadata.correlationId);
      }, { timeoutMs: 10_000 });
      expect(fx.home.linkedVersion(fx.home.serviceLink(n))).toBe('0.2.0');
    }
    // Rolling: the second service started its upgrade only after the first was upgraded.
    const first = (await serviceEvents(names[0]!)).find((e) => e.type === 'ServiceUpgraded')!;
    const second = (await serviceEvents(names[1]!)).find((e) => e.type === 'UpgradeStarted' && (e.data as { toVersion: string }).toVersion === '0.2.0')!;
    expect(Date.parse(second.occurredAt)).toBeGreaterThanOrEqual(Date.parse(first.occurredAt));
    expect(fx.home.linkedVersion(fx.home.currentLink('lavap'))).toBe('0.2.0');
  });

  it('a binary that crashes at start is rolled back: the old version runs again, UpgradeFailed + UpgradeRolledBack say why', async () => {
    const n = names[0]!;
    const before = (await serviceEvents(n)).length;
    await versionChanged(pv('0.3.0', '0.2.0', '0.1.0'));
    await expectEventually(async () => {
      const types = (await serviceEvents(n)).slice(before).map((e) => e.type);
      expect(types).toContain('UpgradeRolledBack');
    }, { timeoutMs: 20_000 });
    const evs = (await serviceEvents(n)).slice(before);
    const failed = evs.find((e) => e.type === 'UpgradeFailed')!;
    expect(failed.data).toMatchObject({ fromVersion: '0.2.0', toVersion: '0.3.0', stage: 'start' });
    expect((failed.data as { reason: string }).reason).toMatch(/exited with code 1/);
    expect(evs.find((e) => e.type === 'UpgradeRolledBack')!.data).toMatchObject({ restoredVersion: '0.2.0', failedVersion: '0.3.0' });
    await waitFor(() => running(n, '0.2.0'), { timeoutMs: 10_000 });
    expect(fx.home.linkedVersion(fx.home.serviceLink(n))).toBe('0.2.0');
    // The consumer's target did not change: it was left alone.
    expect(running(names[1]!, '0.2.0')).toBe(true);
    // Quarantined, not retried by a timer: remembered in the state file and said in the log.
    expect(runner.state.get().quarantine[n]?.['0.3.0']).toMatchObject({ stage: 'start' });
    await expectEventually(async () => expect((await serviceEvents(n)).slice(before).map((e) => e.type)).toContain('VersionQuarantined'), { timeoutMs: 10_000 });
  });

  it('a download whose checksum does not match is refused and deleted; nothing changes', async () => {
    const n = names[1]!;
    const good = fakeLavapScript({ version: '0.4.0' });
    served.set('/releases/v0.4.0/manifest.json', JSON.stringify({ binaries: { 'linux/amd64': `${httpUrl}/bin/lavap-0.4.0?checksum=sha256:${sha256Hex('something else')}` } }));
    served.set('/bin/lavap-0.4.0', good);
    const before = (await serviceEvents(n)).length;
    const pid = runner.services.get(n)!.svc.pid;
    // consumer_min 0.4.0: no installed version may stand in for the target.
    await versionChanged({ providerTarget: '0.3.0', providerMin: '0.1.0', consumerTarget: '0.4.0', consumerMin: '0.4.0' });
    await expectEventually(async () => expect((await serviceEvents(n)).slice(before).map((e) => e.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined']), { timeoutMs: 15_000 });
    const [, failed, rolledBack, quarantined] = (await serviceEvents(n)).slice(before);
    // A binary that failed its checksum is not fetched again on the next reconcile.
    expect(quarantined!.data).toMatchObject({ version: '0.4.0', stage: 'verify' });
    expect(failed!.data).toMatchObject({ stage: 'verify', toVersion: '0.4.0' });
    expect((failed!.data as { reason: string }).reason).toMatch(/checksum mismatch/);
    // The running version never stopped; the rollback event says so, with the reason.
    expect(rolledBack!.data).toMatchObject({ failedVersion: '0.4.0', restoredVersion: (failed!.data as { fromVersion: string }).fromVersion });
    expect((rolledBack!.data as { reason: string }).reason).toMatch(/verify: .*checksum mismatch.*kept running, never stopped/);
    expect(existsSync(fx.home.versionDir('0.4.0'))).toBe(false);
    expect(runner.services.get(n)!.svc.pid).toBe(pid);
  });

  it('downloads a verified binary from a release manifest and upgrades to it', async () => {
    const n = names[1]!;
    const good = fakeLavapScript({ version: '0.4.1' });
    served.set('/releases/v0.4.1/manifest.json', JSON.stringify({ binaries: { 'linux/amd64': `${httpUrl}/bin/lavap-0.4.1?checksum=sha256:${sha256Hex(good)}` } }));
    served.set('/bin/lavap-0.4.1', good);
    await versionChanged(pv('0.3.0', '0.4.1', '0.1.0'));
    await waitFor(() => running(n, '0.4.1'), { timeoutMs: 20_000 });
    expect(readFileSync(fx.home.binaryPath('0.4.1', 'lavap'), 'utf8')).toBe(good);
  });

  it('a binary that fails its health probe is rolled back', async () => {
    const n = names[1]!;
    const before = (await serviceEvents(n)).length;
    await versionChanged(pv('0.3.0', '0.5.0', '0.1.0'));
    await expectEventually(async () => expect((await serviceEvents(n)).slice(before).map((e) => e.type)).toContain('UpgradeRolledBack'), { timeoutMs: 20_000 });
    const failed = (await serviceEvents(n)).slice(before).find((e) => e.type === 'UpgradeFailed')!;
    expect(failed.data).toMatchObject({ stage: 'health', toVersion: '0.5.0' });
    await waitFor(() => running(n, '0.4.1'), { timeoutMs: 10_000 });
  });

  it('a crash loop is reported once and restarts back off (no CPU spin)', async () => {
    const n = names[1]!;
    const e = runner.services.get(n)!;
    // Break the running binary's link target for this service: point it at the crashing version.
    runner.store.switchLink(fx.home.serviceLink(n), '0.3.0', 'lavap');
    const before = (await serviceEvents(n)).length;
    process.kill(e.svc.pid!, 'SIGKILL');
    await expectEventually(async () => expect((await serviceEvents(n)).slice(before).map((x) => x.type)).toContain('ServiceCrashLooping'), { timeoutMs: 15_000 });
    const t0 = Date.now();
    const restartsBefore = e.svc.restarts;
    await new Promise((r) => setTimeout(r, 2_500));
    // restartMaxMs is 1 s in a loop: at most ~3 restarts in 2.5 s, never a tight loop.
    expect(e.svc.restarts - restartsBefore).toBeLessThanOrEqual(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_500);
    const evs = (await serviceEvents(n)).slice(before);
    expect(evs.filter((x) => x.type === 'ServiceCrashLooping')).toHaveLength(1);
    const backoffs = evs.filter((x) => x.type === 'ServiceRestarted').map((x) => (x.data as { backoffMs: number }).backoffMs);
    expect(backoffs.slice(0, 2)).toEqual([100, 200]);
    expect(Math.max(...backoffs)).toBe(1_000);
    expect(e.svc.state).toBe('crash_looping');
    // Repair: link back and the next restart brings it up.
    runner.store.switchLink(fx.home.serviceLink(n), '0.4.1', 'lavap');
    await waitFor(() => running(n, '0.4.1'), { timeoutMs: 10_000 });
  });
});
