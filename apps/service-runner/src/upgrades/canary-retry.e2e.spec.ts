// The canary retry policy (ADR 0008) with the compiled program: `fleetvisor start` with
// `upgrade.retry: { policy: canary, every: 2s }` and a consumer on 0.1.0. The chain asks for
// 0.2.0, whose release is first not published (the upgrade fails at obtain: quarantined), then
// published but broken where it runs (it exits at start until the "chain" is ready), then fixed.
// Each interval a canary proves the quarantined version on spare ports: the running service is
// never stopped or restarted while the canaries fail (same pid, no ServiceExited), `upgrades list`
// and `services list` say when the next canary runs, each check is a CanaryChecked; the first
// healthy canary lifts the quarantine and the normal upgrade moves the service to 0.2.0.
// Real Postgres, NATS (relay and event intake here), processes and HTTP release server.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { fakeLavapScript, sha256Hex } from '@fleetvisor/devnet';
import { createTestDatabase, expectEventually, freePort, inheritedEnvironment, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { signEvent } from '@fleetvisor/trust';
import { RunnerFixture } from '../../test/runner-fixture';
import { serveTestIntake } from '../../test/intake';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-canary-1';
const HOST = 'host-canary';
const SERVICE = 'consumer-CAN1';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });

let db: TestDatabase;
let core: FleetCore;
let fx: RunnerFixture;
let env: Record<string, string>;
let http: Server;
let port: number;
let runner: ChildProcess | undefined;
let out = '';
let height = 10;
let previous: ProtocolVersion | null = null;
const served = new Map<string, string>();

async function versionChanged(current: ProtocolVersion): Promise<void> {
  height += 10;
  await core.store.appendToStream(`chain-${CHAIN}`, [signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous, current }), testTrust().signer('chain-watcher'))]);
  previous = current;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args, '--directory', fx.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const events = async (): Promise<RecordedEvent[]> => (await core.store.readStream(`service-${HOST}/${SERVICE}`)).events;
const canaries = async (): Promise<Record<string, unknown>[]> => (await events()).filter((e) => e.type === 'CanaryChecked').map((e) => e.data as Record<string, unknown>);
interface Listed {
  service: string;
  state: string;
  pid?: number;
  version?: string;
  nextRetry?: { version: string; at: string };
}
async function listed(): Promise<Listed> {
  const r = await run(['services', 'list', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as Listed[])[0]!;
}
const readyFile = (): string => path.join(fx.dir, 'chain-ready');

/**
 * 0.2.0 as released: a lavap that exits at start ("panic") until the file `chain-ready` exists,
 * then runs as the working fake does; `lavap version` always answers. What is broken is where it
 * runs, not the bytes: the same binary, checksum and all, works once the environment is ready.
 */
function gatedRelease(): string {
  const ok = fakeLavapScript({ version: '0.2.0' });
  const gate = `if (process.argv[2] !== 'version' && !require('fs').existsSync(${JSON.stringify(readyFile())})) { process.stderr.write('panic: the chain is not at the upgrade height yet\\n'); process.exit(1); }\n`;
  return ok.replace("'use strict';\n", `'use strict';\n${gate}`);
}

beforeAll(async () => {
  db = await createTestDatabase('fvt_canary');
  const bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: HOST });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'canary-e2e', config, relay: { idleIntervalMs: 50 }, logger: pino({ level: 'silent' }) });
  core.start();
  await serveTestIntake(core);
  http = createServer((req, res) => {
    const body = served.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200).end(body);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  fx = new RunnerFixture(config, CHAIN, 'fv-canary-', [testTrust().root.publicKey]);
  fx.install('0.1.0');
  fx.setCurrent('0.1.0');
  fx.writeHomeConfig({ download: { manifestUrl: `${httpUrl}/v{version}/manifest.json` }, upgrade: { probe: 'tcp', retry: { policy: 'canary', everyMs: 2_000 } } });
  port = await freePort();
  expect(fx.addService({ role: 'consumer', from: 'consumer', chainLabel: 'CAN1', port })).toBe(SERVICE);
  // The publishing step of the release, used later: the script at a URL and its manifest with the checksum.
  served.set('/lavap-0.2.0', gatedRelease());
  env = {
    PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
    HOME: fx.dir,
    FLEETVISOR_NATS_URL: config.natsUrl,
    FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
    FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
    FLEETVISOR_HOST: HOST,
    FLEETVISOR_LOG_FORMAT: 'json',
    FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile,
    FLEETVISOR_RUNNER_PLATFORM: 'linux/amd64',
    FLEETVISOR_RUNNER_HEALTH_STABLE: '1s',
    FLEETVISOR_RUNNER_HEALTH_TIMEOUT: '5s',
    FLEETVISOR_RUNNER_STOP_GRACE: '2s',
    FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
  };
  await versionChanged(pv('0.1.0'));
}, 60_000);

afterAll(async () => {
  if (runner && runner.exitCode === null) {
    runner.kill('SIGTERM');
    await new Promise((r) => runner!.once('exit', r));
  }
  if (core) for (const name of [core.config.eventStreamName, `${core.config.eventStreamName}_DLQ`]) await core.jsm.streams.delete(name).catch(() => undefined);
  await core?.close();
  await new Promise((r) => http?.close(r));
  await db?.drop();
  // Whatever a failed assertion left running (services outlive runners here by design).
  fx?.killLeftovers();
  fx?.remove();
});

describe('quarantine retry under the canary policy', () => {
  it('keeps a failed version quarantined while its canaries fail, never touching the running service, and upgrades after the first healthy one', async () => {
    runner = spawn(process.execPath, [CLI, 'start', '--directory', fx.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    runner.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    runner.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let live: Listed | undefined;
    await waitFor(async () => (live = await listed().catch(() => undefined))?.state === 'running', { timeoutMs: 20_000, message: 'service running' });
    expect(live).toMatchObject({ version: '0.1.0' });
    const pid = live!.pid!;
    const before = (await events()).length;

    // 1. The chain asks for 0.2.0; its release is not published yet: the upgrade fails at obtain, 0.2.0 is quarantined.
    await versionChanged(pv('0.2.0'));
    await expectEventually(async () => {
      expect((await events()).slice(before).map((e) => e.type)).toEqual(expect.arrayContaining(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined']));
    }, { timeoutMs: 20_000 });
    // Each interval a canary check, here failing at obtain (nothing to start), with the next one's time.
    await expectEventually(async () => expect((await canaries())[0]).toMatchObject({ version: '0.2.0', outcome: 'unhealthy', stage: 'obtain', nextCheckAt: expect.any(String) }), { timeoutMs: 20_000 });
    const up = await run(['upgrades', 'list', '--json']);
    const q = (JSON.parse(up.stdout) as { services: { quarantined: { version: string; nextRetryAt?: string; lastCheck?: string }[] }[] }[])[0]!.services[0]!.quarantined;
    expect(q).toEqual([expect.objectContaining({ version: '0.2.0', nextRetryAt: expect.any(String), lastCheck: expect.stringMatching(/^unhealthy at .*: .*404/) })]);
    expect(Date.parse(q[0]!.nextRetryAt!)).toBeGreaterThan(Date.now() - 2_500);
    const upText = await run(['upgrades', 'list']);
    expect(upText.stdout).toMatch(/next retry at \S+ \(canary\)/);
    const l = await listed();
    expect(l.nextRetry).toMatchObject({ version: '0.2.0', at: expect.any(String) });
    expect((await run(['services', 'list'])).stdout).toMatch(/NEXT RETRY[\s\S]*0\.2\.0 canary at /);

    // 2. Published, but it exits at start where it runs: the canaries fail at start; the service is not touched.
    const script = served.get('/lavap-0.2.0')!;
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/lavap-0.2.0`;
    served.set('/v0.2.0/manifest.json', JSON.stringify({ binaries: { 'linux/amd64': `${url}?checksum=sha256:${sha256Hex(script)}` } }));
    await expectEventually(async () => expect((await canaries()).some((c) => c['stage'] === 'start')).toBe(true), { timeoutMs: 30_000 });
    const started = (await canaries()).find((c) => c['stage'] === 'start')!;
    expect(started).toMatchObject({ outcome: 'unhealthy', reason: expect.stringMatching(/exited with code 1/), address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    // The canary listened on a spare port of its own, never the service's.
    expect(started['address']).not.toBe(`127.0.0.1:${port}`);
    expect(readFileSync(path.join(fx.home.logsDir, `${SERVICE}.canary.log`), 'utf8')).toContain('panic: the chain is not at the upgrade height yet');
    const meanwhile = await listed();
    expect(meanwhile).toMatchObject({ pid, version: '0.1.0', state: 'running' });
    expect((await events()).slice(before).map((e) => e.type)).not.toContain('ServiceExited');
    expect(fx.home.linkedVersion(fx.home.serviceLink(SERVICE))).toBe('0.1.0');

    // 3. Fixed where it runs: the next canary is healthy, the quarantine is lifted and the upgrade proceeds.
    writeFileSync(readyFile(), 'yes\n');
    await expectEventually(async () => {
      const after = (await events()).slice(before);
      const i = after.findIndex((e) => e.type === 'CanaryChecked' && (e.data as { outcome: string }).outcome === 'healthy');
      expect(i).toBeGreaterThanOrEqual(0);
      expect(after.slice(i).map((e) => e.type)).toEqual(['CanaryChecked', 'QuarantineLifted', 'UpgradeStarted', 'ServiceExited', 'ServiceStarted', 'ServiceUpgraded']);
      expect(after[i]!.data).not.toHaveProperty('nextCheckAt');
      expect(after[i + 1]!.data).toMatchObject({ version: '0.2.0', reason: expect.stringMatching(/^canary healthy: up 1000 ms and answered TCP on 127\.0\.0\.1:\d+/) });
    }, { timeoutMs: 30_000 });
    await expectEventually(async () => {
      const now = await listed();
      expect(now).toMatchObject({ version: '0.2.0', state: 'running' });
      expect(now.nextRetry).toBeUndefined();
    }, { timeoutMs: 10_000 });
    // The history tells it: each canary, its outcome and the next one's time.
    const show = await run(['upgrades', 'show', SERVICE]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/CanaryChecked\s+0\.2\.0 canary unhealthy at obtain: .*; next canary at /);
    expect(show.stdout).toMatch(/CanaryChecked\s+0\.2\.0 canary healthy: up 1000 ms/);
    // No canary is left running, and none is kept on disk.
    expect(existsSync(path.join(fx.home.stateDir, `${SERVICE}.canary.pid`))).toBe(false);
  }, 120_000);
});
