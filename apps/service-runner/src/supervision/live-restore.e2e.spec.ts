// Live-restore (ADR 0007) with the compiled program: `fleetvisor start` supervising two services,
// one of them fed the keyring password on stdin; the runner killed with SIGKILL, then stopped with
// SIGTERM, and started again each time. The services keep their pids and uptime, write on into the
// same log files, are listed as adopted, and are still watched (restarted when they die, stopped
// by signal). A service killed while no runner ran is started again; a pid file naming a process
// with another start time (a recycled pid) is neither adopted nor killed. Real Postgres, NATS
// (relay and event intake in this test process) and child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { consumerConfigYaml, sha256Hex } from '@fleetvisor/devnet';
import { createTestDatabase, expectEventually, freePort, inheritedEnvironment, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { signEvent } from '@fleetvisor/trust';
import { RunnerFixture } from '../../test/runner-fixture';
import { serveTestIntake } from '../../test/intake';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-live-1';
const HOST = 'host-live';
const PASSWORD = 'Pw-live-restore-77';
const PASSPHRASE = 'passphrase of the live-restore test';

let db: TestDatabase;
let core: FleetCore;
let fx: RunnerFixture;
let env: Record<string, string>;
let ports: number[];
const procs: ChildProcess[] = [];
const PROVIDER = 'provider1-LIV1';
const CONSUMER = 'consumer-LIV2';

interface Listed {
  service: string;
  state: string;
  pid?: number;
  startedAt?: string;
  adopted?: boolean;
  version?: string;
}

function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args, '--directory', fx.dir], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

function startRunner(): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'start', '--directory', fx.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  procs.push(child);
  return { child, output: () => out, exit: new Promise((r) => child.once('exit', (c) => r(c))) };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidFile = (s: string): string => path.join(fx.home.stateDir, `${s}.pid`);
const pidOf = (s: string): number | undefined => (existsSync(pidFile(s)) ? (JSON.parse(readFileSync(pidFile(s), 'utf8')) as { pid: number }).pid : undefined);
const events = async (s: string): Promise<RecordedEvent[]> => (await core.store.readStream(`service-${HOST}/${s}`)).events;
const log = (s: string): string => (existsSync(fx.home.logFile(s)) ? readFileSync(fx.home.logFile(s), 'utf8') : '');
async function list(): Promise<Listed[]> {
  const r = await run(['services', 'list', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Listed[];
}
const byName = (l: Listed[], s: string): Listed => l.find((x) => x.service === s)!;
/** The banner a fake lavap answers on its port: the service is up and serving. */
function banner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });
}
async function bothRunning(): Promise<Listed[]> {
  let l: Listed[] = [];
  await waitFor(
    async () => {
      l = await list().catch(() => []);
      return l.length === 2 && l.every((s) => s.state === 'running' && s.pid !== undefined);
    },
    { timeoutMs: 30_000, message: 'both services running' },
  );
  return l;
}

beforeAll(async () => {
  db = await createTestDatabase('fvt_live_restore');
  const bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: HOST });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'live-restore-e2e', config, relay: { idleIntervalMs: 50 }, logger: pino({ level: 'silent' }) });
  core.start();
  await serveTestIntake(core);
  fx = new RunnerFixture(config, CHAIN, 'fv-live-', [testTrust().root.publicKey]);
  env = {
    PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
    HOME: fx.dir,
    FLEETVISOR_NATS_URL: config.natsUrl,
    FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
    FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
    FLEETVISOR_HOST: HOST,
    FLEETVISOR_LOG_FORMAT: 'json',
    FLEETVISOR_LOG_LEVEL: 'info',
    FLEETVISOR_SECRETS_PASSPHRASE: PASSPHRASE,
    FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile,
    FLEETVISOR_RUNNER_STOP_GRACE: '2s',
    FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms',
    FLEETVISOR_RUNNER_RESTART_MAX: '1s',
    // FLEETVISOR_RUNNER_LIVE_RESTORE is not set: the default is under test.
  };
  ports = [await freePort(), await freePort(), await freePort()];
  fx.writeHomeConfig();
  fx.install('0.1.0', 'ok', sha256Hex(PASSWORD));
  fx.setCurrent('0.1.0');
  fx.addService({ role: 'provider', from: 'provider1', chainLabel: 'LIV1', port: ports[0]!, keyringBackend: 'file' });
  fx.addService({ role: 'consumer', from: 'consumer', chainLabel: 'LIV2', port: ports[1]! });
  fx.install('0.2.0', 'ok', sha256Hex(PASSWORD));
  const set = await run(['secrets', 'set-password'], PASSWORD + '\n');
  expect(set.code, set.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const s of [PROVIDER, CONSUMER]) {
    const pid = pidOf(s);
    if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
  }
  if (core) for (const name of [core.config.eventStreamName, `${core.config.eventStreamName}_DLQ`]) await core.jsm.streams.delete(name).catch(() => undefined);
  await core?.close();
  await db?.drop();
  // Whatever a failed assertion left running (services outlive runners here by design).
  fx?.killLeftovers();
  fx?.remove();
});

describe('live-restore: the runner restarts, its services do not', () => {
  it('after kill -9 and after SIGTERM of the runner, the next runner adopts the same processes, uptime and log files kept', async () => {
    const r1 = startRunner();
    const first = await bothRunning();
    await waitFor(() => log(PROVIDER).includes('keyring unlocked') && log(CONSUMER).includes('listening on'), { timeoutMs: 20_000, message: 'both up' });
    const pids: Record<string, number> = { [PROVIDER]: byName(first, PROVIDER).pid!, [CONSUMER]: byName(first, CONSUMER).pid! };
    const since: Record<string, string> = { [PROVIDER]: byName(first, PROVIDER).startedAt!, [CONSUMER]: byName(first, CONSUMER).startedAt! };
    for (const s of [PROVIDER, CONSUMER]) {
      // The child writes its log file itself (stdout and stderr), so no pipe ties it to the runner.
      expect(readlinkSync(`/proc/${pids[s]}/fd/1`)).toBe(fx.home.logFile(s));
      expect(readlinkSync(`/proc/${pids[s]}/fd/2`)).toBe(fx.home.logFile(s));
    }
    // The password-fed child's stdin is a pipe (Node makes it a socketpair) that the runner ended
    // once it typed the password: reading it gives end-of-file, with or without the runner.
    expect(readlinkSync(`/proc/${pids[PROVIDER]}/fd/0`)).toMatch(/^(pipe|socket):/);
    expect(readlinkSync(`/proc/${pids[CONSUMER]}/fd/0`)).toBe('/dev/null');

    r1.child.kill('SIGKILL');
    await r1.exit;
    // No runner now: both keep serving, the password-fed one included (nothing it reads or writes went away).
    expect(await banner(ports[0]!)).toContain('lavap 0.1.0');
    expect(await banner(ports[1]!)).toContain('lavap 0.1.0');
    expect(alive(pids[PROVIDER]!) && alive(pids[CONSUMER]!)).toBe(true);

    const r2 = startRunner();
    const second = await bothRunning();
    for (const s of [PROVIDER, CONSUMER]) {
      expect(byName(second, s)).toMatchObject({ pid: pids[s], adopted: true, startedAt: since[s], state: 'running', version: '0.1.0' });
    }
    const text = await run(['services', 'list']);
    expect(text.stdout).toMatch(/running \(adopted\)/);
    await expectEventually(async () => {
      const started = (await events(PROVIDER)).filter((e) => e.type === 'ServiceStarted');
      expect(started.map((e) => [(e.data as { pid: number }).pid, (e.data as { adopted?: boolean }).adopted ?? false])).toEqual([
        [pids[PROVIDER], false],
        [pids[PROVIDER], true],
      ]);
    }, { timeoutMs: 20_000 });
    // The password was typed once, by the first runner: an adopted process never asks again.
    expect(log(PROVIDER).match(/keyring unlocked/g)).toHaveLength(1);

    // SIGTERM (a restart or upgrade of the runner): it exits, the services stay.
    r2.child.kill('SIGTERM');
    expect(await r2.exit).toBe(0);
    expect(alive(pids[PROVIDER]!) && alive(pids[CONSUMER]!)).toBe(true);
    expect(r2.output()).toContain('left running (live-restore)');
    expect(await banner(ports[0]!)).toContain('lavap 0.1.0');
    // A service that dies while no runner runs is started on the next start; the other is adopted.
    process.kill(pids[CONSUMER]!, 'SIGKILL');
    await waitFor(() => !alive(pids[CONSUMER]!), { timeoutMs: 5_000 });

    const r3 = startRunner();
    const third = await bothRunning();
    expect(byName(third, PROVIDER)).toMatchObject({ pid: pids[PROVIDER], adopted: true, startedAt: since[PROVIDER] });
    const consumer3 = byName(third, CONSUMER);
    expect(consumer3.pid).not.toBe(pids[CONSUMER]);
    expect(consumer3.adopted).toBeUndefined();
    await waitFor(async () => (await banner(ports[1]!).catch(() => '')).includes('lavap 0.1.0'), { timeoutMs: 10_000 });
    // No ServiceStopped was recorded by the runners that left their services running.
    expect((await events(PROVIDER)).map((e) => e.type)).not.toContain('ServiceStopped');

    // An adopted process is watched: killed, it is restarted (the password typed again from the log it writes).
    const unlockedBefore = log(PROVIDER).match(/keyring unlocked/g)!.length;
    process.kill(pids[PROVIDER]!, 'SIGKILL');
    await expectEventually(async () => {
      const p = byName(await list(), PROVIDER);
      expect(p.state).toBe('running');
      expect(p.pid).not.toBe(pids[PROVIDER]);
      expect(p.adopted).toBeUndefined();
    }, { timeoutMs: 20_000 });
    await waitFor(() => log(PROVIDER).match(/keyring unlocked/g)!.length === unlockedBefore + 1, { timeoutMs: 10_000, message: 'password typed into the restarted provider' });
    await expectEventually(async () => {
      const exited = (await events(PROVIDER)).filter((e) => e.type === 'ServiceExited').map((e) => e.data as { pid: number; expected: boolean });
      // Not the runner's child: how it ended is not known, only that it did.
      expect(exited).toContainEqual(expect.objectContaining({ pid: pids[PROVIDER], expected: false, code: null, signal: null, statusUnknown: true }));
    }, { timeoutMs: 20_000 });

    r3.child.kill('SIGTERM');
    expect(await r3.exit).toBe(0);
  }, 120_000);

  it('a pid file naming a process with another start time (a recycled pid) is neither adopted nor stopped', async () => {
    const consumerPid = pidOf(CONSUMER)!;
    const record = JSON.parse(readFileSync(pidFile(CONSUMER), 'utf8')) as { pid: number; startTime: string; binaryPath: string };
    process.kill(consumerPid, 'SIGKILL');
    await waitFor(() => !alive(consumerPid), { timeoutMs: 5_000 });
    // A process running the very same binary (so only the start time tells it apart), on a port of its own.
    const decoyConfig = path.join(fx.dir, 'decoy.yml');
    writeFileSync(decoyConfig, consumerConfigYaml('DEC1', `127.0.0.1:${ports[2]}`));
    const decoy = spawn(record.binaryPath, ['rpcconsumer', decoyConfig], { stdio: 'ignore' });
    procs.push(decoy);
    await waitFor(async () => (await banner(ports[2]!).catch(() => '')).includes('lavap'), { timeoutMs: 10_000 });
    writeFileSync(pidFile(CONSUMER), JSON.stringify({ ...record, pid: decoy.pid, startTime: '1' }));

    const provider = pidOf(PROVIDER)!;
    const r4 = startRunner();
    const l = await bothRunning();
    expect(byName(l, PROVIDER)).toMatchObject({ pid: provider, adopted: true });
    const consumer = byName(l, CONSUMER);
    expect(consumer.pid).not.toBe(decoy.pid);
    expect(consumer.adopted).toBeUndefined();
    expect(alive(decoy.pid!)).toBe(true);
    decoy.kill('SIGKILL');

    // An adopted process is stopped by signal when asked, and writes its goodbye into the same log file.
    const stop = await run(['services', 'stop', PROVIDER]);
    expect(stop.code, stop.stderr).toBe(0);
    await waitFor(() => !alive(provider), { timeoutMs: 10_000 });
    expect(log(PROVIDER)).toContain('SIGTERM: shutting down');
    await expectEventually(async () => expect((await events(PROVIDER)).map((e) => e.type).slice(-2)).toEqual(['ServiceExited', 'ServiceStopped']), { timeoutMs: 20_000 });
    r4.child.kill('SIGTERM');
    expect(await r4.exit).toBe(0);
  }, 120_000);

  it('an adopted service is upgraded as usual: the adopted pid is signalled and awaited, the new binary started', async () => {
    const consumer = pidOf(CONSUMER)!;
    expect(alive(consumer)).toBe(true); // left running by the last runner
    const r5 = startRunner();
    const l = await bothRunning();
    expect(byName(l, CONSUMER)).toMatchObject({ pid: consumer, adopted: true, version: '0.1.0' });
    const before = (await events(CONSUMER)).length;
    const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
    await core.store.appendToStream(`chain-${CHAIN}`, [signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height: 20, previous: null, current: pv('0.2.0') }), testTrust().signer('chain-watcher'))]);
    await expectEventually(async () => {
      const evs = (await events(CONSUMER)).slice(before);
      expect(evs.map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceExited', 'ServiceStarted', 'ServiceUpgraded']);
      // The adopted process was asked to stop (expected) and waited for; how it ended is not ours to know.
      expect(evs[1]!.data).toMatchObject({ pid: consumer, expected: true, statusUnknown: true });
      expect(evs[2]!.data).toMatchObject({ version: '0.2.0' });
      expect(evs[2]!.data).not.toHaveProperty('adopted');
    }, { timeoutMs: 40_000 });
    expect(alive(consumer)).toBe(false);
    expect(log(CONSUMER)).toContain('SIGTERM: shutting down');
    await expectEventually(async () => expect(byName(await list(), CONSUMER)).toMatchObject({ version: '0.2.0', state: 'running' }), { timeoutMs: 10_000 });
    await waitFor(async () => (await banner(ports[1]!).catch(() => '')).includes('lavap 0.2.0'), { timeoutMs: 10_000 });
    r5.child.kill('SIGTERM');
    expect(await r5.exit).toBe(0);
  }, 120_000);
});
