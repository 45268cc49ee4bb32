// The venus daily checks with the compiled program: a wallet defined by `fleetvisor create-service
// venus-wallet`, then `fleetvisor start` supervising it: a simulated venus-wallet (a real child process serving venus-wallet's JSON-RPC, printing its real
// "WalletSign error password not set" line while it holds no password). Its own probe
// (Filecoin.Version with the admin token) shows it healthy; the line becomes ONE
// ServiceNeedsAttention naming `fleetvisor secrets set-password wallet-1`; that command stores the
// password and the runner delivers it through the wallet's API (Filecoin.Unlock, as `venus-wallet
// setpwd` does), so the wallet unlocks and the attention clears; a restart of the wallet gets the
// stored password again without a new event, and so does a runner that restarts and adopts the
// wallet (live-restore). The password is never in a file under the home, an
// event, the runner's output, or the wallet's /proc/<pid>/cmdline or environ. Real Postgres, NATS
// (event intake in this test process) and child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent, ServiceStatus } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { writeFakeVenusWallet, writeVenusWalletRepo } from '@fleetvisor/devnet';
import { createTestDatabase, expectEventually, freePort, inheritedEnvironment, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { RunnerFixture } from '../../test/runner-fixture';
import { serveTestIntake } from '../../test/intake';
import { jsonRpcCall } from './service-probe';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const HOST = 'host-venus';
const WALLET = 'wallet-1';
const PASSWORD = 'Venus-wallet-pw-4711';
const PASSPHRASE = 'passphrase of the venus checks test';
const TOKEN = 'venus-admin-token-e2e';

let db: TestDatabase;
let core: FleetCore;
let fx: RunnerFixture;
let env: Record<string, string>;
let port: number;
let runner: { child: ChildProcess; output: () => string; exit: Promise<number | null> } | undefined;

function run(args: string[], stdin?: string, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args, '--directory', fx.dir], { env: { ...env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function status(): Promise<ServiceStatus> {
  const r = await run(['services', 'status', WALLET, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { status: ServiceStatus }[])[0]!.status;
}

const events = async (): Promise<RecordedEvent[]> => (await core.store.readStream(`service-${HOST}/${WALLET}`)).events;
const attentionEvents = async (): Promise<RecordedEvent[]> => (await events()).filter((e) => e.type === 'ServiceNeedsAttention');
const log = (): string => readFileSync(fx.home.logFile(WALLET), 'utf8');
const count = (text: string, what: string): number => text.split(what).length - 1;
/** What the wallet says of its lock (Filecoin.LockState, admin): false once it holds the password and is unlocked. */
async function locked(): Promise<boolean> {
  const a = await jsonRpcCall(`127.0.0.1:${port}`, '/rpc/v0', 'Filecoin.LockState', [], TOKEN);
  if (a.error) throw new Error(a.error.message);
  return a.result as boolean;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile() && statSync(p).size < 16 * 1024 * 1024) out.push(p);
  }
  return out;
}

beforeAll(async () => {
  db = await createTestDatabase('fvt_venus_checks');
  const bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: HOST });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'venus-checks-e2e', config, relay: { idleIntervalMs: 50 }, logger: pino({ level: 'silent' }) });
  core.start();
  await serveTestIntake(core);
  fx = new RunnerFixture(config, 'lava-venus-1', 'fv-venus-', [testTrust().root.publicKey]);
  port = await freePort();
  const bin = writeFakeVenusWallet(path.join(fx.dir, 'bin'));
  const repo = path.join(fx.dir, 'venus_wallet');
  const { configFile, apiInfo } = writeVenusWalletRepo(repo, port, TOKEN);
  const tokenFile = path.join(fx.dir, 'wallet-admin.token');
  writeFileSync(tokenFile, `${apiInfo}\n`, { mode: 0o600 });
  fx.writeHomeConfig();
  env = {
    PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
    HOME: fx.dir,
    FLEETVISOR_NATS_URL: config.natsUrl,
    FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
    FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
    FLEETVISOR_HOST: HOST,
    FLEETVISOR_LOG_FORMAT: 'json',
    FLEETVISOR_LOG_LEVEL: 'debug',
    FLEETVISOR_SECRETS_PASSPHRASE: PASSPHRASE,
    FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile,
    FLEETVISOR_RUNNER_STOP_GRACE: '2s',
    FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms',
    FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
  };
  // What an operator runs (README: venus components); no runner yet, so it starts with `start`.
  const created = await run([
    'create-service', 'venus-wallet', '--name', WALLET, '--cmd', `${bin} --repo ${repo} run`, '--config', configFile,
    '--token-file', tokenFile, '--probe-address', `127.0.0.1:${port}`, '--probe-every', '300ms', '--json',
  ]);
  expect(created.code, created.stderr).toBe(0);
  expect(JSON.parse(created.stdout)).toMatchObject({ service: WALLET, outcome: 'created', runner: { outcome: 'no-runner' } });
}, 60_000);

afterAll(async () => {
  if (runner && runner.child.exitCode === null && runner.child.signalCode === null) {
    runner.child.kill('SIGTERM');
    await runner.exit;
  }
  if (core) for (const name of [core.config.eventStreamName, `${core.config.eventStreamName}_DLQ`]) await core.jsm.streams.delete(name).catch(() => undefined);
  await core?.close();
  await db?.drop();
  fx?.killLeftovers();
  fx?.remove();
});

describe('venus daily checks in the service-runner', () => {
  it('"password not set" is one ServiceNeedsAttention with its remedy; set-password <service> delivers the password through the wallet API; the password is nowhere', async () => {
    const child = spawn(process.execPath, [CLI, 'start', '--directory', fx.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    runner = { child, output: () => out, exit: new Promise((r) => child.once('exit', (c) => r(c))) };

    // Its own probe answers (Filecoin.Version with the admin token), and the problem is seen.
    const before = await expectEventually(
      async () => {
        const s = await status();
        expect(s.kind).toBe('venus-wallet');
        expect(s.health).toMatchObject({ ok: true, probe: `json-rpc Filecoin.Version on 127.0.0.1:${port}/rpc/v0`, detail: 'version 1.20.0' });
        expect(s.attention).toHaveLength(1);
        return s;
      },
      { timeoutMs: 30_000 },
    );
    expect(before.attention![0]).toMatchObject({ pattern: 'venus-wallet.password-not-set', remedy: `fleetvisor secrets set-password ${WALLET}` });
    const [first] = await expectEventually(
      async () => {
        const a = await attentionEvents();
        expect(a).toHaveLength(1);
        return a;
      },
      { timeoutMs: 20_000 },
    );
    expect(first!.data).toMatchObject({
      host: HOST,
      service: WALLET,
      problem: 'venus-wallet has no password: it cannot sign (messages, blocks, PoSt)',
      remedy: `fleetvisor secrets set-password ${WALLET}`,
      pattern: 'venus-wallet.password-not-set',
      pid: before.pid,
    });
    expect((first!.data as { excerpt: string }).excerpt).toContain('WalletSign error password not set');
    // Once per run, not per line: the wallet printed it many more times meanwhile.
    await waitFor(() => count(log(), 'password not set') >= 15, { timeoutMs: 20_000, message: 'the wallet keeps printing the line' });
    expect(await attentionEvents()).toHaveLength(1);
    expect(await locked()).toBe(true);

    // `services list` shows it with the remedy under the table.
    const listed = await run(['services', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/HEALTH\s+ATTENTION/);
    expect(listed.stdout).toContain(`${HOST}/${WALLET} needs attention since`);
    expect(listed.stdout).toContain(`remedy: fleetvisor secrets set-password ${WALLET}`);

    // Stored under another passphrase than the runner's: it cannot read it, says so, delivers nothing.
    const otherKey = await run(['secrets', 'set-password', WALLET], `${PASSWORD}\n`, { FLEETVISOR_SECRETS_PASSPHRASE: 'another passphrase, not the runner one' });
    expect(otherKey.code).toBe(1);
    expect(otherKey.stdout).toContain('the running runner did not take it: the runner cannot read the password just stored');
    expect(await locked()).toBe(true);

    // The remedy: the runner running for the home delivers the new password at once.
    const set = await run(['secrets', 'set-password', WALLET], `${PASSWORD}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain(`the running runner is delivering it to ${WALLET} now`);
    await expectEventually(async () => expect(await locked()).toBe(false), { timeoutMs: 20_000 });
    await expectEventually(async () => expect((await status()).attention).toBeUndefined(), { timeoutMs: 10_000 });
    expect(log()).toContain('wallet unlocked');

    // A restart: the new process gets the stored password after its start, with no new event
    // (the line it prints before that is the runner's own remedy under way, not the operator's).
    const restarted = await run(['services', 'restart', WALLET]);
    expect(restarted.code, restarted.stderr).toBe(0);
    const after = await expectEventually(
      async () => {
        const s = await status();
        expect(s.pid).toBeDefined();
        expect(s.pid).not.toBe(before.pid);
        expect(await locked()).toBe(false);
        return s;
      },
      { timeoutMs: 30_000 },
    );
    expect(count(log(), 'wallet unlocked')).toBe(2);
    expect(await attentionEvents()).toHaveLength(1);

    // The password is nowhere: not in the wallet's argv or environment, no file of the home
    // (logs, spool, state; only the encrypted secret holds it), no event, no runner output.
    const pid = after.pid!;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(PASSWORD);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(PASSWORD);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).not.toContain(PASSPHRASE);
    for (const f of filesUnder(fx.dir)) expect(readFileSync(f, 'utf8'), f).not.toContain(PASSWORD);
    expect(JSON.stringify(await events())).not.toContain(PASSWORD);
    expect(runner.output()).not.toContain(PASSWORD);
    expect(runner.output()).not.toContain(TOKEN);

    // The runner killed and started again with live-restore: it adopts the running wallet, whose
    // Unlock answers "wallet already unlocked" (it holds the password): done, nothing to report.
    const firstOutput = runner.output();
    runner.child.kill('SIGKILL');
    await runner.exit;
    const child2 = spawn(process.execPath, [CLI, 'start', '--directory', fx.dir], { env: { ...env, FLEETVISOR_RUNNER_LIVE_RESTORE: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out2 = '';
    child2.stdout!.on('data', (d: Buffer) => (out2 += d.toString()));
    child2.stderr!.on('data', (d: Buffer) => (out2 += d.toString()));
    runner = { child: child2, output: () => out2, exit: new Promise((r) => child2.once('exit', (c) => r(c))) };
    await expectEventually(
      async () => {
        const s = await status();
        expect(s).toMatchObject({ pid, adopted: true, health: { ok: true } });
        expect(out2).toContain('stored password delivered through the service API');
      },
      { timeoutMs: 30_000 },
    );
    expect(await locked()).toBe(false);
    expect((await status()).attention).toBeUndefined();
    expect(await attentionEvents()).toHaveLength(1);
    expect(firstOutput + out2).not.toContain(PASSWORD);
  }, 180_000);
});
