// LavaVisor's users, end to end with the compiled CLI and real parts (devnet chain with 1 s blocks, a
// `chain-watcher run` process that records VersionChanged, Postgres, NATS, fake lavap binaries):
//   - `init --from-lavavisor` takes a LavaVisor home the test builds the way LavaVisor lays it out,
//     without changing a byte of it (checksummed before and after), and says what it left and why;
//   - the imported services run under `start`, follow the chain onto a binary LavaVisor had
//     installed, and `upgrades show` tells that upgrade with its cause, locally and over the bus;
//   - `wrap` (of lavap rpcprovider) and `pod` (of lavap rpcconsumer, LavaVisor's flag spellings)
//     run one process in the foreground and move it to the chain's new version, downloaded.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolVersion, RecordedEvent } from '@fleetvisor/contracts';
import { PostgresEventStore } from '@fleetvisor/event-store/core';
import { consumerConfigYaml, providerConfigYaml, startDevnetChain, startLavapReleaseServer, writeFakeLavap, type DevnetChain, type LavapReleaseServer } from '@fleetvisor/devnet';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createTestDatabase, expectEventually, freePort, inheritedEnvironment, startPrivateNats, testBusNames, testTrust, waitFor, type PrivateNats, type TestDatabase } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-lv-1';
const HOST = 'lv-e2e-host';
const PROVIDER = 'provider1-LAV1';
const CONSUMER = 'consumer-ETH1';
const pv = (v: string, min = '0.1.0'): ProtocolVersion => ({ providerTarget: v, providerMin: min, consumerTarget: v, consumerMin: min });

/** Every file and link under dir: path -> sha256 of the content (files), the target (links), and the mode. */
function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `link ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(p);
      } else out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')} ${st.mtimeMs}`;
    }
  };
  walk(dir);
  return out;
}

interface Proc {
  child: ChildProcess;
  output: () => string;
}

describe('LavaVisor users: import, upgrades show, wrap and pod following the chain', () => {
  let db: TestDatabase;
  // A private NATS (JetStream): the test's streams neither fill nor wait on the shared server's storage.
  let nats: PrivateNats;
  let chain: DevnetChain;
  let releases: LavapReleaseServer;
  let pool: Pool;
  let store: PostgresEventStore;
  let base: string;
  let lvParent: string;
  let lv: string;
  let runnerDir: string;
  let env: Record<string, string>;
  let ports: Record<string, number>;
  const bus = testBusNames();
  const procs: Proc[] = [];

  const spawnProc = (args: string[], extraEnv: Record<string, string> = {}): Proc => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    const p = { child, output: () => out };
    procs.push(p);
    return p;
  };
  const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const banner = (port: number): Promise<string> =>
    new Promise((resolve) => {
      const s = tcpConnect({ host: '127.0.0.1', port });
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('end', () => resolve(got.trim()));
      s.on('error', () => resolve(''));
    });
  /** waitFor, and on a timeout the end of each process's output (read then, not when asked). */
  const waitOrShow = async (cond: () => Promise<boolean>, what: string, timeoutMs: number, shown: Record<string, Proc>): Promise<void> => {
    try {
      await waitFor(cond, { timeoutMs, message: what });
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${Object.entries(shown).map(([k, p]) => `--- ${k}:\n${p.output().slice(-3000)}`).join('\n')}`);
    }
  };
  const streamEvents = async (stream: string): Promise<RecordedEvent[]> => (await store.readStream(stream)).events;
  const versionChangedAt = (height: number): Promise<RecordedEvent> =>
    expectEventually(
      async () => {
        const e = (await streamEvents(`chain-${CHAIN}`)).find((x) => x.type === 'VersionChanged' && (x.data as { height: number }).height === height);
        expect(e, `VersionChanged at ${height}`).toBeDefined();
        return e!;
      },
      { timeoutMs: 15_000 },
    );

  /** A LavaVisor home as LavaVisor writes it: create-service's units and configs, init's upgrades/ and lavap link. */
  function buildLavavisorHome(): void {
    lv = path.join(lvParent, '.lavavisor');
    const svcDir = path.join(lv, 'services');
    const cfgDir = path.join(svcDir, 'protocol_yml_configs');
    mkdirSync(cfgDir, { recursive: true });
    mkdirSync(path.join(svcDir, 'logs'));
    writeFakeLavap(path.join(lv, 'upgrades', 'v0.1.0'), { version: '0.1.0' });
    writeFakeLavap(path.join(lv, 'upgrades', 'v0.2.0'), { version: '0.2.0' });
    // A folder whose binary is not the version it is named after.
    writeFakeLavap(path.join(lv, 'upgrades', 'v0.0.9'), { version: '0.0.8' });
    mkdirSync(path.join(lv, 'upgrades', 'latest'));
    const bin = path.join(lvParent, 'go', 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(path.join(lv, 'upgrades', 'v0.1.0', 'lavap'), path.join(bin, 'lavap'));
    writeFileSync(path.join(cfgDir, 'provider1-LAV1.yml'), providerConfigYaml('LAV1', `127.0.0.1:${ports[PROVIDER]}`, chain.rpcUrl));
    writeFileSync(path.join(cfgDir, 'consumer-ETH1.yml'), consumerConfigYaml('ETH1', `127.0.0.1:${ports[CONSUMER]}`));
    const unit = (name: string, sub: string, from: string, extra: string) =>
      `[Unit]\n  Description=${name} daemon\n  After=network-online.target\n[Service]\n  WorkingDirectory=${bin}/\n` +
      `  ExecStart=${bin}/lavap ${sub} .lavavisor/services/protocol_yml_configs/${name}.yml --from ${from} --keyring-backend test --parallel-connections 4 --chain-id ${CHAIN} --geolocation 1 --log_level info --node ${extra}\n` +
      `  User=lava\n  Restart=always\n  RestartSec=180\n[Install]\n  WantedBy=multi-user.target\n`;
    writeFileSync(path.join(svcDir, `${PROVIDER}.service`), unit(PROVIDER, 'rpcprovider', 'provider1', `${chain.rpcUrl} --metrics-listen-address :7780`));
    writeFileSync(path.join(svcDir, `${CONSUMER}.service`), unit(CONSUMER, 'rpcconsumer', 'consumer', ''));
    // create-service ran for it, but it was never added to config.yml: LavaVisor would not start it.
    writeFileSync(path.join(svcDir, 'stray-LAV1.service'), unit('stray-LAV1', 'rpcprovider', 'stray', ''));
    writeFileSync(path.join(lv, 'config.yml'), `services:\n  - ${PROVIDER}.service\n  - ${CONSUMER}.service\n  - gone-ETH1.service\n`);
  }

  beforeAll(async () => {
    nats = await startPrivateNats();
    // The event and dead-letter streams belong to `migrate`; the test makes them the same way.
    await createTestStreams({ ...bus, natsUrl: nats.url });
    db = await createTestDatabase('fvt_lavavisor');
    pool = new Pool({ connectionString: db.url, max: 2 });
    store = new PostgresEventStore(pool);
    chain = await startDevnetChain({ chainId: CHAIN, blockTimeMs: 1000, version: pv('0.1.0') });
    releases = await startLavapReleaseServer({ releases: [{ version: '0.2.0' }, { version: '0.3.0' }] });
    base = mkdtempSync(path.join(tmpdir(), 'fv-lavavisor-'));
    lvParent = path.join(base, 'lavavisor-user');
    runnerDir = path.join(base, 'runner');
    ports = { [PROVIDER]: await freePort(), [CONSUMER]: await freePort(), wrap: await freePort(), pod: await freePort() };
    env = {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      HOME: base,
      FLEETVISOR_NATS_URL: nats.url,
      FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
      FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
      FLEETVISOR_HOST: HOST,
      // Stopped runners take their services with them (live-restore would leave them to the next test).
      FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'info',
      FLEETVISOR_CHAINS: `${CHAIN}=${chain.rpcUrl}`,
      FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0',
      FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
      FLEETVISOR_RUNNER_PLATFORM: releases.platform,
      FLEETVISOR_RUNNER_HEALTH_STABLE: '500ms',
      FLEETVISOR_RUNNER_HEALTH_TIMEOUT: '3s',
      FLEETVISOR_RUNNER_STOP_GRACE: '2s',
      FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms',
      FLEETVISOR_RUNNER_RESTART_MAX: '1s',
      // The fleet's trust root (runners verify commands and chain events) and the key the chain-watcher signs with.
      ...testTrust().env('chain-watcher'),
    };
    buildLavavisorHome();
    // Only the chain-watcher holds database credentials; the runners record through its event intake.
    const watcher = spawnProc(['chain-watcher', 'run'], { FLEETVISOR_DATABASE_URL: db.url });
    await expectEventually(async () => expect((await streamEvents(`chain-${CHAIN}`)).map((e) => e.type), watcher.output().slice(-3000)).toContain('VersionChanged'), { timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    for (const p of procs.reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      await Promise.race([new Promise((r) => p.child.once('exit', r)), new Promise((r) => setTimeout(r, 5_000))]);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
    for (const home of base ? ['runner', 'wrap', 'pod'].map((d) => path.join(base, d, '.fleetvisor', 'state')) : []) {
      for (const f of existsSync(home) ? readdirSync(home).filter((n) => n.endsWith('.pid')) : []) {
        try {
          process.kill((JSON.parse(readFileSync(path.join(home, f), 'utf8')) as { pid: number }).pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await nats?.stop();
    await pool?.end();
    await releases?.close();
    await chain?.stop();
    await db?.drop();
    if (base) rmSync(base, { recursive: true, force: true });
  }, 60_000);

  it('init --from-lavavisor imports services, binaries and the current version, leaves the LavaVisor home untouched, and says what it could not take', async () => {
    const before = treeDigest(lvParent);
    // LavaVisor's --directory names the folder that holds .lavavisor; both forms are taken.
    const r = await cli(['init', '--from-lavavisor', lvParent, '--directory', runnerDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(treeDigest(lvParent)).toEqual(before);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown> & { skipped: { what: string; why: string }[] };
    expect(report).toMatchObject({
      source: lv,
      download: false,
      chainId: CHAIN,
      current: { version: '0.1.0', how: expect.stringContaining(`${path.join(lvParent, 'go', 'bin', 'lavap')} links to upgrades/v0.1.0`) },
      binaries: [
        { version: '0.1.0', outcome: 'imported' },
        { version: '0.2.0', outcome: 'imported' },
      ],
      services: [
        { name: PROVIDER, role: 'provider', outcome: 'created', linkedVersion: '0.1.0' },
        { name: CONSUMER, role: 'consumer', outcome: 'created', linkedVersion: '0.1.0' },
      ],
    });
    const why = Object.fromEntries(report.skipped.map((s) => [s.what, s.why]));
    expect(why['upgrades/v0.0.9/lavap']).toBe('`lavap version` reports 0.0.8, not 0.0.9');
    expect(why['upgrades/latest']).toBe('not a v<X.Y.Z> version folder');
    expect(why['services/stray-LAV1.service']).toMatch(/not listed in config.yml/);
    expect(why['service gone-ETH1']).toMatch(/listed in config.yml but .*gone-ETH1.service does not exist/);
    expect(why[`${PROVIDER}: --metrics-listen-address :7780`]).toMatch(/only the flags create-service writes/);

    const def = readFileSync(path.join(runnerDir, '.fleetvisor', 'services', `${PROVIDER}.yml`), 'utf8');
    expect(def).toContain(`- --node\n  - ${chain.rpcUrl}`);
    expect(def).toContain('- --log_level\n  - info');
    expect(readFileSync(path.join(runnerDir, '.fleetvisor', 'upgrades', 'v0.2.0', 'lavap'))).toEqual(readFileSync(path.join(lv, 'upgrades', 'v0.2.0', 'lavap')));

    const noSource = await cli(['init', '--from-lavavisor', lv, '--directory', path.join(base, 'no-source')], { FLEETVISOR_HOST: 'lv-other-host' });
    expect(noSource.stdout).toContain('upgrades: no download source in config.yml');

    // Again, in words, now with a download source: nothing new, still nothing changed on the LavaVisor side.
    const again = await cli(['init', '--from-lavavisor', lv, '--directory', runnerDir, '--auto-download', '--manifest-url', releases.manifestUrlTemplate]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`imported the LavaVisor home ${lv} into .* is unchanged`));
    expect(again.stdout).toMatch(/0\.1\.0 {2}already installed, same as/);
    expect(again.stdout).toMatch(new RegExp(`${PROVIDER} {2}provider {2}unchanged`));
    expect(again.stdout).toMatch(/not imported:\n[\s\S]*upgrades\/v0\.0\.9\/lavap: `lavap version` reports 0\.0\.8, not 0\.0\.9/);
    expect(again.stdout).not.toContain('no download source');
    expect(readFileSync(path.join(runnerDir, '.fleetvisor', 'config.yml'), 'utf8')).toContain(`manifest-url: ${releases.manifestUrlTemplate}`);
    expect(treeDigest(lvParent)).toEqual(before);

    const missing = await cli(['init', '--from-lavavisor', path.join(base, 'nothing-here'), '--directory', path.join(base, 'other')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no LavaVisor home at .*nothing-here/);
  }, 60_000);

  it('the imported services follow the chain onto a binary LavaVisor had installed; upgrades show tells it with its cause, locally and over the bus', async () => {
    const runner = spawnProc(['start', '--directory', runnerDir, '--log_level', 'info']);
    await waitOrShow(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.1.0' && (await banner(ports[CONSUMER]!)) === 'lavap 0.1.0', 'imported services up on 0.1.0', 60_000, { runner });
    const { height } = await chain.setVersion(pv('0.2.0'));
    const changed = await versionChangedAt(height);
    await waitOrShow(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.2.0' && (await banner(ports[CONSUMER]!)) === 'lavap 0.2.0', 'both on 0.2.0', 30_000, { runner });
    // The history reaches the event stream through the spool and the intake: wait until ServiceUpgraded is there.
    const show = await expectEventually(
      async () => {
        const r = await cli(['upgrades', 'show', PROVIDER, '--directory', runnerDir, '--json']);
        expect(r.code, r.stderr).toBe(0);
        const j = JSON.parse(r.stdout) as { history: { type: string }[] };
        expect(j.history.map((h) => h.type)).toContain('ServiceUpgraded');
        return j as Record<string, unknown> & { history: Record<string, unknown>[] };
      },
      { timeoutMs: 15_000 },
    );
    expect(show).toMatchObject({ host: HOST, historyFrom: 'stream', upgrades: { service: PROVIDER, running: '0.2.0', linked: '0.2.0', installed: ['0.2.0', '0.1.0'], quarantined: [] } });
    const started = show.history.find((h) => h['type'] === 'UpgradeStarted')!;
    const upgraded = show.history.find((h) => h['type'] === 'ServiceUpgraded')!;
    expect(started).toMatchObject({ fromVersion: '0.1.0', toVersion: '0.2.0', causationId: changed.id, actor: 'service-runner' });
    expect(upgraded).toMatchObject({ fromVersion: '0.1.0', toVersion: '0.2.0', correlationId: started['correlationId'] });

    const text = await cli(['upgrades', 'show', PROVIDER, '--directory', runnerDir]);
    expect(text.stdout).toContain(`${HOST}/${PROVIDER} (provider, lavap)`);
    expect(text.stdout).toMatch(/UpgradeStarted {5}0\.1\.0 -> 0\.2\.0/);
    expect(text.stdout).toContain(`cause ${changed.id}`);

    const overBus = await cli(['upgrades', 'show', PROVIDER, '--host', HOST, '--json']);
    expect(overBus.code, overBus.stderr).toBe(0);
    expect(JSON.parse(overBus.stdout)).toMatchObject({ host: HOST, upgrades: { service: PROVIDER, running: '0.2.0' } });
    const unknown = await cli(['upgrades', 'show', 'nope', '--directory', runnerDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`no service nope on ${HOST}; it has: ${PROVIDER}, ${CONSUMER}`);
  }, 120_000);

  it("wrap (lavap rpcprovider) and pod (LavaVisor's flag spellings) run one process in the foreground and follow the chain's VersionChanged", async () => {
    const cfgDir = path.join(base, 'cfg');
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(path.join(cfgDir, 'wrap-provider.yml'), providerConfigYaml('LAV1', `127.0.0.1:${ports['wrap']}`, chain.rpcUrl));
    writeFileSync(path.join(cfgDir, 'pod-consumer.yml'), consumerConfigYaml('ETH1', `127.0.0.1:${ports['pod']}`));
    // No lavap on PATH: each gets the chain's version (0.2.0, from the log) downloaded.
    const wrap = spawnProc(
      ['wrap', '--cmd', `lavap rpcprovider ${path.join(cfgDir, 'wrap-provider.yml')} --from w1 --geolocation 1 --chain-id ${CHAIN}`, '--chain-id', CHAIN, '--auto-download', '--manifest-url', releases.manifestUrlTemplate, '--directory', path.join(base, 'wrap')],
      { FLEETVISOR_HOST: 'lv-wrap-host' },
    );
    const pod = spawnProc(
      ['pod', '--cmd', `lavap rpcconsumer ${path.join(cfgDir, 'pod-consumer.yml')} --from c1 --geolocation 1 --chain-id ${CHAIN}`, '--chain_id', CHAIN, '--log_level', 'info', '--url-template', releases.urlTemplate, '--checksum-url', releases.checksumUrlTemplate, '--directory', path.join(base, 'pod')],
      { FLEETVISOR_HOST: 'lv-pod-host' },
    );
    await waitOrShow(async () => (await banner(ports['wrap']!)) === 'lavap 0.2.0' && (await banner(ports['pod']!)) === 'lavap 0.2.0', 'wrap and pod up on 0.2.0', 60_000, { wrap, pod });
    const { height } = await chain.setVersion(pv('0.3.0'));
    await versionChangedAt(height);
    await waitOrShow(async () => (await banner(ports['wrap']!)) === 'lavap 0.3.0' && (await banner(ports['pod']!)) === 'lavap 0.3.0', 'wrap and pod on 0.3.0', 30_000, { wrap, pod });
    // In the foreground: the child's own lines are on the wrapper's output.
    expect(pod.output()).toContain('lavap 0.3.0 rpcconsumer starting');
    expect(wrap.output()).toContain('lavap 0.3.0 rpcprovider starting');
    expect(readlinkSync(path.join(base, 'pod', '.fleetvisor', 'services', 'pod-lavap.bin'))).toContain('v0.3.0');
    // ServiceUpgraded follows the health check and reaches the log through the spool.
    await expectEventually(async () => expect((await streamEvents('service-lv-pod-host/pod-lavap')).map((e) => e.type)).toEqual(expect.arrayContaining(['UpgradeStarted', 'ServiceUpgraded'])), { timeoutMs: 15_000 });

    // The pod's container restarts with the same --directory: it comes back on its own link, nothing downloaded again.
    const [os, arch] = releases.platform.split('/');
    // (The runner of the imported home, the wrap and the pod each downloaded 0.3.0 once.)
    const downloads = releases.requests(`/bin/lavap-0.3.0-${os}-${arch}`);
    expect(downloads).toBeGreaterThan(0);
    pod.child.kill('SIGTERM');
    await new Promise((r) => pod.child.once('exit', r));
    expect(await banner(ports['pod']!)).toBe('');
    const again = spawnProc(
      ['pod', '--cmd', `lavap rpcconsumer ${path.join(cfgDir, 'pod-consumer.yml')} --from c1 --geolocation 1 --chain-id ${CHAIN}`, '--chain_id', CHAIN, '--url-template', releases.urlTemplate, '--checksum-url', releases.checksumUrlTemplate, '--directory', path.join(base, 'pod')],
      { FLEETVISOR_HOST: 'lv-pod-host' },
    );
    await waitOrShow(async () => (await banner(ports['pod']!)) === 'lavap 0.3.0', 'the restarted pod on 0.3.0', 30_000, { pod: again });
    expect(releases.requests(`/bin/lavap-0.3.0-${os}-${arch}`)).toBe(downloads);
  }, 120_000);
});
