// The runner as operators run it: `fleetvisor init|create-service|secrets|services` through the
// CLI, `start` as its own process, killed with SIGKILL in the middle of an upgrade and started
// again. Real Postgres, NATS (relay and the central event intake in this test process), child
// processes. The runner's environment holds no database setting: a host has none (ADR 0006).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestDatabase, expectEventually, freePort, testBusNames, testCoreConfig, waitFor, type TestDatabase, inheritedEnvironment, testTrust } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { signEvent } from '@fleetvisor/trust';
import { RunnerFixture } from '../test/runner-fixture';
import { serveTestIntake } from '../test/intake';
import { providerConfigYaml, sha256Hex } from '@fleetvisor/devnet';
import { UpgradeStateStore } from './upgrades/upgrade-state';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-e2e-2';
const PASSWORD = 'Pw-9f3b2a-never-in-logs';
const PASSPHRASE = 'a long passphrase for the secrets file';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });

let db: TestDatabase;
let core: FleetCore;
let fx: RunnerFixture;
let env: Record<string, string>;
let previous: ProtocolVersion | null = null;
let height = 100;
const procs: ChildProcess[] = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], stdin?: string): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args, '--directory', fx.dir], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function startRunner(): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [CLI, 'start', '--directory', fx.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  procs.push(child);
  return { child, output: () => out };
}

async function versionChanged(current: ProtocolVersion): Promise<void> {
  height += 10;
  await core.store.appendToStream(`chain-${CHAIN}`, [signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous, current }), testTrust().signer('chain-watcher'))]);
  previous = current;
}

const events = async (service: string): Promise<RecordedEvent[]> => (await core.store.readStream(`service-host-e2e2/${service}`)).events;
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** /proc/<pid>/environ as a map. */
const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
/** A child's environment holds the runner's PATH, HOME and TZ and the service's own variables, nothing else. */
function expectChildEnvironment(pid: number, own: Record<string, string>): void {
  const childEnv = environOf(pid);
  expect(childEnv).toEqual({ PATH: env['PATH'], HOME: env['HOME'], TZ: 'UTC', ...own });
  const raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
  for (const secret of [PASSPHRASE, db.url, PASSWORD]) expect(raw).not.toContain(secret);
}
const pidOf = (service: string): number | undefined => {
  const f = path.join(fx.home.stateDir, `${service}.pid`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { pid: number }).pid : undefined;
};

let ports: number[];

beforeAll(async () => {
  db = await createTestDatabase('fvt_runner_cli');
  const bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: 'host-e2e2' });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'runner-cli-e2e', config, relay: { idleIntervalMs: 50 }, logger: pino({ level: 'silent' }) });
  core.start();
  await serveTestIntake(core);
  fx = new RunnerFixture(config, CHAIN, 'fv-cli-', [testTrust().root.publicKey]);
  env = {
    PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
    HOME: fx.dir,
    FLEETVISOR_NATS_URL: config.natsUrl,
    FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
    FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
    FLEETVISOR_HOST: 'host-e2e2',
    FLEETVISOR_LOG_FORMAT: 'json',
    FLEETVISOR_LOG_LEVEL: 'info',
    FLEETVISOR_SECRETS_PASSPHRASE: PASSPHRASE,
    // The fleet's trust root: the runner acts only on chain events signed by a key it certified.
    FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile,
    FLEETVISOR_RUNNER_HEALTH_STABLE: '3s',
    FLEETVISOR_RUNNER_STOP_GRACE: '2s',
    FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms',
    FLEETVISOR_RUNNER_RESTART_MAX: '1s',
    // The runner as it was before live-restore (the setting's false): it stops its children on
    // SIGTERM and stops what a killed runner left. supervision/live-restore.e2e.spec.ts has the default.
    FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
    TZ: 'UTC',
    RUNNER_ONLY_SETTING: 'not-for-children',
  };
  ports = [await freePort(), await freePort(), await freePort()];
  fx.install('0.1.0', 'ok', sha256Hex(PASSWORD));
  fx.install('0.2.0', 'ok', sha256Hex(PASSWORD));
  await versionChanged(pv('0.1.0'));
}, 60_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const f of existsSync(fx.home.stateDir) ? readdirSync(fx.home.stateDir).filter((n) => n.endsWith('.pid')) : []) {
    try {
      process.kill((JSON.parse(readFileSync(path.join(fx.home.stateDir, f), 'utf8')) as { pid: number }).pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (core) for (const name of [core.config.eventStreamName, `${core.config.eventStreamName}_DLQ`]) await core.jsm.streams.delete(name).catch(() => undefined);
  await core?.close();
  await db?.drop();
  fx?.remove();
});

describe('fleetvisor service-runner commands', () => {
  it('init reads the protocol version from the log and links the binary; create-service validates and is idempotent', async () => {
    const init = await run(['init', '--chain-id', CHAIN, '--json']);
    expect(init.stderr + init.stdout).toContain('"version":"0.1.0"');
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout.trim().split('\n').pop()!)).toMatchObject({ source: 'log', version: '0.1.0' });
    expect(fx.home.linkedVersion(fx.home.currentLink('lavap'))).toBe('0.1.0');

    const cfg = path.join(fx.dir, 'p.yml');
    writeFileSync(cfg, providerConfigYaml('LAV1', `127.0.0.1:${ports[0]}`));
    const args = ['create-service', 'provider', cfg, '--geolocation', '1', '--from', 'provider1', '--keyring-backend', 'file', '--chain-id', CHAIN, '--json'];
    const first = await run(args);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ service: 'provider1-LAV1', outcome: 'created', linkedVersion: '0.1.0', runner: { outcome: 'no-runner' } });
    const again = await run(args);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'unchanged' });

    const cfg2 = path.join(fx.dir, 'p2.yml');
    writeFileSync(cfg2, providerConfigYaml('LAV2', `127.0.0.1:${ports[1]}`));
    expect((await run(['create-service', 'provider', cfg2, '--geolocation', '1', '--from', 'provider2', '--keyring-backend', 'file', '--chain-id', CHAIN])).code).toBe(0);

    const bad = path.join(fx.dir, 'bad.yml');
    writeFileSync(bad, providerConfigYaml('LAV3', 'not-an-address'));
    const refused = await run(['create-service', 'provider', bad, '--geolocation', '1', '--from', 'p3', '--keyring-backend', 'test']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('endpoints[0].network-address.address');
    expect(fx.home.readConfig().services).toEqual(['provider1-LAV1', 'provider2-LAV2']);
    await expectEventually(async () => expect((await events('provider1-LAV1')).map((e) => e.type)).toEqual(['ServiceCreated']));
  });

  it('secrets set-password stores the password encrypted; the runner types it into the service that asks', async () => {
    const set = await run(['secrets', 'set-password'], PASSWORD + '\n');
    expect(set.code).toBe(0);
    expect(readFileSync(path.join(fx.home.secretsDir, 'keyring-password.enc'), 'utf8')).not.toContain(PASSWORD);
  });

  let r1: ReturnType<typeof startRunner>;
  const PROVIDER1_ENV = { LAVA_LOG_FORMAT: 'json', GOMAXPROCS: '2' };

  it('a supervised service starts with PATH, HOME, TZ and its own variables: no FLEETVISOR_* setting, database URL or passphrase', async () => {
    fx.home.writeService({ ...fx.home.readService('provider1-LAV1'), env: PROVIDER1_ENV });
    r1 = startRunner();
    await waitFor(() => ['provider1-LAV1', 'provider2-LAV2'].every((s) => existsSync(fx.home.logFile(s)) && readFileSync(fx.home.logFile(s), 'utf8').includes('keyring unlocked')), {
      timeoutMs: 30_000,
      message: 'both providers unlocked their keyrings',
    });
    expectChildEnvironment(pidOf('provider1-LAV1')!, PROVIDER1_ENV);
    expectChildEnvironment(pidOf('provider2-LAV2')!, {});
  });

  it('a runner killed with SIGKILL in the middle of an upgrade rolls it back on restart and finishes it', async () => {
    const list = await run(['services', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((s: { service: string; state: string; version: string }) => [s.service, s.state, s.version])).toEqual([
      ['provider1-LAV1', 'running', '0.1.0'],
      ['provider2-LAV2', 'running', '0.1.0'],
    ]);
    const fleet = await run(['services', 'list', '--fleet', '--json', '--timeout', '1500']);
    expect(JSON.parse(fleet.stdout).map((s: { host: string; service: string }) => `${s.host}/${s.service}`)).toEqual(['host-e2e2/provider1-LAV1', 'host-e2e2/provider2-LAV2']);
    // Query commands print no log lines on stderr (FLEETVISOR_LOG_LEVEL is info here); the local
    // list says, on stderr, which home and control socket it asked.
    expect(list.stderr).toBe('');
    expect(fleet.stderr).toBe('');
    const text = await run(['services', 'list']);
    expect(text.stdout).toMatch(/^HOST +SERVICE/);
    expect(text.stderr).toBe(`home ${fx.home.root}, control socket ${fx.home.socketPath}\n`);
    for (const args of [['services', 'status', 'provider1-LAV1', '--fleet', '--json'], ['upgrades', 'list', '--fleet', '--json'], ['upgrades', 'list', '--json']]) {
      const q = await run([...args, '--timeout', '1500']);
      expect(q.code, q.stderr).toBe(0);
      expect(q.stderr, args.join(' ')).toBe('');
    }
    const oldPids = ['provider1-LAV1', 'provider2-LAV2'].map((s) => pidOf(s)!);

    await versionChanged(pv('0.2.0'));
    const state = () => new UpgradeStateStore(fx.home.stateDir).get();
    const onNewBinary = (s: string): boolean => {
      const f = path.join(fx.home.stateDir, `${s}.pid`);
      return existsSync(f) && readFileSync(f, 'utf8').includes('/v0.2.0/');
    };
    // Killed while a service runs the new binary but has not passed its health check yet.
    await waitFor(() => Object.entries(state().inProgress).some(([s, u]) => u.phase === 'health' && onNewBinary(s)), {
      timeoutMs: 20_000,
      message: 'an upgrade in its health check',
    });
    const interrupted = Object.keys(state().inProgress)[0]!;
    r1.child.kill('SIGKILL');
    await new Promise((r) => r1.child.once('exit', r));
    const orphan = pidOf(interrupted)!;
    expect(alive(orphan)).toBe(true); // the child on the new binary outlived the runner

    const r2 = startRunner();
    await waitFor(() => ['provider1-LAV1', 'provider2-LAV2'].every((s) => fx.home.linkedVersion(fx.home.serviceLink(s)) === '0.2.0') && Object.keys(state().inProgress).length === 0, {
      timeoutMs: 40_000,
      message: 'both services upgraded after the restart',
    });
    await expectEventually(async () => {
      const types = (await events(interrupted)).map((e) => e.type).filter((t) => t.startsWith('Upgrade') || t === 'ServiceUpgraded');
      expect(types).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'UpgradeStarted', 'ServiceUpgraded']);
    }, { timeoutMs: 20_000 });
    const failed = (await events(interrupted)).find((e) => e.type === 'UpgradeFailed')!;
    expect((failed.data as { reason: string }).reason).toMatch(/runner stopped during the upgrade/);
    // Nothing left behind: the orphan and the old children are gone; one process per service.
    await waitFor(() => !alive(orphan) && oldPids.every((p) => !alive(p)), { timeoutMs: 10_000 });
    const status = JSON.parse((await run(['services', 'status', interrupted, '--json'])).stdout) as { status: { version: string; state: string; pid: number } }[];
    expect(status[0]!.status).toMatchObject({ version: '0.2.0', state: 'running' });
    expect(alive(status[0]!.status.pid)).toBe(true);

    // The keyring password is nowhere: not in logs, events, spool, state, process args or environment.
    const pid = status[0]!.status.pid;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(PASSWORD);
    // A child started by an upgrade gets the same explicit environment.
    expectChildEnvironment(pid, interrupted === 'provider1-LAV1' ? PROVIDER1_ENV : {});
    const all = await core.store.readAll('0:0', 10_000);
    expect(JSON.stringify(all.events)).not.toContain(PASSWORD);
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(path.join(dir, d.name)) : d.isFile() ? [path.join(dir, d.name)] : []));
    for (const f of walk(fx.home.root)) expect(readFileSync(f, 'utf8').includes(PASSWORD), f).toBe(false);
    expect(r1.output() + r2.output()).not.toContain(PASSWORD);
    expect(readFileSync(fx.home.logFile(interrupted), 'utf8')).toContain('keyring unlocked');

    // A service created while the runner runs is handed to it and started, no restart; its
    // events are recorded as for any service.
    const cfg3 = path.join(fx.dir, 'p3.yml');
    writeFileSync(cfg3, providerConfigYaml('LAV3', `127.0.0.1:${ports[2]}`));
    const create3 = ['create-service', 'provider', cfg3, '--geolocation', '1', '--from', 'provider3', '--keyring-backend', 'test', '--chain-id', CHAIN];
    const added = await run([...create3, '--json']);
    expect(added.code, added.stderr).toBe(0);
    const took = JSON.parse(added.stdout) as { outcome: string; runner: { outcome: string; pid: number; state: string } };
    expect(took).toMatchObject({ outcome: 'created', runner: { outcome: 'started', state: 'running' } });
    expect(alive(took.runner.pid)).toBe(true);
    expect(pidOf('provider3-LAV3')).toBe(took.runner.pid);
    // Linked, like any new service, to the current binary: the chain's 0.2.0.
    expect(fx.home.linkedVersion(fx.home.serviceLink('provider3-LAV3'))).toBe('0.2.0');
    await expectEventually(async () => {
      const recorded = await events('provider3-LAV3');
      expect(recorded.map((e) => e.type)).toEqual(['ServiceCreated', 'ServiceStarted']);
      expect(recorded[1]!.data).toMatchObject({ pid: took.runner.pid, version: '0.2.0' });
    }, { timeoutMs: 20_000 });
    const listed = JSON.parse((await run(['services', 'list', '--json'])).stdout) as { service: string; state: string; version: string }[];
    expect(listed.find((s) => s.service === 'provider3-LAV3')).toMatchObject({ state: 'running', version: '0.2.0' });
    const again3 = await run(create3);
    expect(again3.code).toBe(0);
    expect(again3.stdout).toContain('unchanged provider3-LAV3');
    expect(again3.stdout).toContain('the running runner already supervises it');

    // SIGTERM: the runner stops its children and exits cleanly.
    const pids = ['provider1-LAV1', 'provider2-LAV2', 'provider3-LAV3'].map((s) => pidOf(s)!);
    r2.child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => r2.child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(pids.every((p) => !alive(p))).toBe(true);
    await expectEventually(async () => expect((await events(interrupted)).map((e) => e.type).slice(-2)).toEqual(['ServiceExited', 'ServiceStopped']), { timeoutMs: 10_000 });
    // Host liveness: each start said HostOnline; only the clean stop (not the SIGKILL) said HostOffline.
    await expectEventually(async () => {
      const host = (await core.store.readStream('host-host-e2e2')).events.filter((e) => e.type === 'HostOnline' || e.type === 'HostOffline');
      expect(host.map((e) => e.type)).toEqual(['HostOnline', 'HostOnline', 'HostOffline']);
      expect(host[2]!.data).toMatchObject({ host: 'host-e2e2', process: 'service-runner', reason: expect.stringContaining('SIGTERM') });
    }, { timeoutMs: 10_000 });
  });
});
