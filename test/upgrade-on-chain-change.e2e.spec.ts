// The whole upgrade path across apps, every part a real process or server: a devnet chain with 1 s
// blocks, a `chain-watcher run` process (which also runs the outbox relay), a service-runner
// (`fleetvisor init` + `create-service` + `start`) supervising a fake-lavap provider and consumer
// downloaded from a loopback release server, Postgres and NATS. `devnet.setVersion` is the only
// trigger: the watcher sees the param change, records VersionChanged, the relay publishes it, the
// runner upgrades. Asserted on what runs (the TCP banner of each service names its binary's
// version) and on the log.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect as natsConnect } from 'nats';
import { Pool } from 'pg';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolVersion, RecordedEvent } from '@fleetvisor/contracts';
import { PostgresEventStore } from '@fleetvisor/event-store/core';
import { consumerConfigYaml, providerConfigYaml, startDevnetChain, startLavapReleaseServer, writeFakeLavap, type DevnetChain, type LavapReleaseServer } from '@fleetvisor/devnet';
import { createTestDatabase, expectEventually, freePort, sharedNatsUrl, testBusNames, testTrust, waitFor, type TestDatabase, inheritedEnvironment } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-sys-1';
const HOST = 'sys-upgrade-host';
const PROVIDER = 'provider1-LAV1';
const CONSUMER = 'consumer-ETH1';
const pv = (p: string, pMin: string, c: string, cMin: string): ProtocolVersion => ({ providerTarget: p, providerMin: pMin, consumerTarget: c, consumerMin: cMin });

interface Proc {
  child: ChildProcess;
  output: () => string;
}

describe('a protocol version change on the chain upgrades the fleet', () => {
  let db: TestDatabase;
  let chain: DevnetChain;
  let releases: LavapReleaseServer;
  let pool: Pool;
  let store: PostgresEventStore;
  let dir: string;
  let env: Record<string, string>;
  let ports: Record<string, number>;
  const bus = testBusNames();
  const procs: Proc[] = [];
  let runner: Proc;

  const spawnProc = (args: string[], extraEnv: Record<string, string> = {}): Proc => {
    const child = spawn(process.execPath, args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    const p = { child, output: () => out };
    procs.push(p);
    return p;
  };
  const cli = (args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      // The operator's CLI signs with the admin key unless the test names another signer.
      const child = spawn(process.execPath, [CLI, ...args, '--directory', dir], { env: { ...env, FLEETVISOR_SIGNING_KEY_FILE: testTrust().rootKeyFile, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  /** What the service on `port` says it is: the fake lavap greets a silent client with `lavap <version>`. */
  const banner = (port: number): Promise<string> =>
    new Promise((resolve) => {
      const s = tcpConnect({ host: '127.0.0.1', port });
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('end', () => resolve(got.trim()));
      s.on('error', () => resolve(''));
    });
  const streamEvents = async (stream: string): Promise<RecordedEvent[]> => (await store.readStream(stream)).events;
  const serviceEvents = (service: string) => streamEvents(`service-${HOST}/${service}`);
  const upgradeEvents = async (service: string, afterVersion: number) =>
    (await serviceEvents(service)).filter((e) => e.streamVersion > afterVersion && /^(Upgrade|ServiceUpgraded)/.test(e.type));
  const lastVersion = async (service: string) => (await serviceEvents(service)).at(-1)?.streamVersion ?? 0;
  const stateFile = () => JSON.parse(readFileSync(path.join(dir, '.fleetvisor', 'state', 'upgrade-state.json'), 'utf8')) as { protocol: { height?: number } | null; quarantine: Record<string, Record<string, { reason: string }>> };
  /** The runner has taken the protocol version at `height` in (and reconciled on it). */
  const runnerSaw = (height: number) => waitFor(() => stateFile().protocol?.height === height, { timeoutMs: 15_000, message: `runner took the version at height ${height}` });
  const pidOf = (service: string): number => (JSON.parse(readFileSync(path.join(dir, '.fleetvisor', 'state', `${service}.pid`), 'utf8')) as { pid: number }).pid;
  /** `v<X.Y.Z>` of the binary a service's link points at. */
  const linked = (service: string): string => path.basename(path.dirname(readlinkSync(path.join(dir, '.fleetvisor', 'services', `${service}.bin`))));
  const blockTime = async (height: number): Promise<number> => {
    const res = (await (await fetch(`${chain.rpcUrl}/block?height=${height}`)).json()) as { result: { block: { header: { time: string } } } };
    return Date.parse(res.result.block.header.time);
  };
  const versionChangedAt = async (height: number): Promise<RecordedEvent> =>
    expectEventually(
      async () => {
        const e = (await streamEvents(`chain-${CHAIN}`)).find((x) => x.type === 'VersionChanged' && (x.data as { height: number }).height === height);
        expect(e, `VersionChanged at ${height}`).toBeDefined();
        return e!;
      },
      { timeoutMs: 10_000 },
    );

  beforeAll(async () => {
    db = await createTestDatabase('fvt_sys_upgrade');
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    pool = new Pool({ connectionString: db.url, max: 2 });
    store = new PostgresEventStore(pool);
    chain = await startDevnetChain({ chainId: CHAIN, blockTimeMs: 1000, version: pv('0.1.0', '0.1.0', '0.1.0', '0.1.0') });
    releases = await startLavapReleaseServer({
      releases: [{ version: '0.1.0' }, { version: '0.2.0' }, { version: '0.3.0', behaviour: 'crash-at-start' }],
    });
    dir = mkdtempSync(path.join(tmpdir(), 'fv-sys-upgrade-'));
    ports = { [PROVIDER]: await freePort(), [CONSUMER]: await freePort() };
    env = {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      HOME: dir,
      FLEETVISOR_DATABASE_URL: db.url,
      FLEETVISOR_NATS_URL: sharedNatsUrl(),
      FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
      FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
      FLEETVISOR_HOST: HOST,
      // A stopped runner takes its services with it (live-restore would leave them running).
      FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'info',
      // The fleet's trust root (the runner verifies chain events), and the key the chain-watcher signs them with.
      ...testTrust().env('chain-watcher'),
      // chain-watcher
      FLEETVISOR_CHAINS: `${CHAIN}=${chain.rpcUrl}`,
      FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0',
      FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
      FLEETVISOR_CHAIN_WATCHER_WS_STALL: '4s',
      // service-runner
      FLEETVISOR_RUNNER_PLATFORM: releases.platform,
      FLEETVISOR_RUNNER_HEALTH_STABLE: '500ms',
      FLEETVISOR_RUNNER_HEALTH_TIMEOUT: '3s',
      FLEETVISOR_RUNNER_STOP_GRACE: '2s',
      FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms',
      FLEETVISOR_RUNNER_RESTART_MAX: '1s',
      // The runner before quarantines retried a failed version after this backoff; the tests below
      // would see that retry. The runner now reads no such setting.
      FLEETVISOR_RUNNER_UPGRADE_RETRY_INITIAL: '100ms',
    };
    spawnProc([CLI, 'chain-watcher', 'run']);
    // The watcher records the chain's version when it first sees the chain.
    await expectEventually(async () => expect((await streamEvents(`chain-${CHAIN}`)).map((e) => e.type)).toContain('VersionChanged'), { timeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    for (const p of procs.reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      await Promise.race([new Promise((r) => p.child.once('exit', r)), new Promise((r) => setTimeout(r, 5_000))]);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
    const stateDir = dir ? path.join(dir, '.fleetvisor', 'state') : '';
    for (const f of stateDir && existsSync(stateDir) ? readdirSync(stateDir).filter((n) => n.endsWith('.pid')) : []) {
      try {
        process.kill((JSON.parse(readFileSync(path.join(stateDir, f), 'utf8')) as { pid: number }).pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const nc = await natsConnect({ servers: sharedNatsUrl() }).catch(() => undefined);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for (const name of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`]) await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    }
    await pool?.end();
    await releases?.close();
    await chain?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('init + create-service + start: both services run the version the chain announces', async () => {
    const init = await cli(['init', '--chain-id', CHAIN, '--auto-download', '--manifest-url', releases.manifestUrlTemplate, '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(JSON.parse(init.stdout.trim().split('\n').pop()!)).toMatchObject({ source: 'log', version: '0.1.0', downloaded: true });
    // Probe each restarted service on its network address (TCP) during upgrades.
    const cfgFile = path.join(dir, '.fleetvisor', 'config.yml');
    const cfg = parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(cfgFile, stringify({ ...cfg, upgrade: { probe: 'tcp', parallelism: 1 } }));

    writeFileSync(path.join(dir, 'provider.yml'), providerConfigYaml('LAV1', `127.0.0.1:${ports[PROVIDER]}`, chain.rpcUrl));
    writeFileSync(path.join(dir, 'consumer.yml'), consumerConfigYaml('ETH1', `127.0.0.1:${ports[CONSUMER]}`));
    const p = await cli(['create-service', 'provider', path.join(dir, 'provider.yml'), '--geolocation', '1', '--from', 'provider1', '--keyring-backend', 'test', '--chain-id', CHAIN, '--node', chain.rpcUrl, '--json']);
    expect(p.code, p.stderr).toBe(0);
    const c = await cli(['create-service', 'consumer', path.join(dir, 'consumer.yml'), '--geolocation', '1', '--from', 'consumer', '--keyring-backend', 'test', '--chain-id', CHAIN, '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect([JSON.parse(p.stdout).service, JSON.parse(c.stdout).service]).toEqual([PROVIDER, CONSUMER]);

    // No runner yet: the fleet is empty (not an error), the local socket is absent (an error saying so).
    const empty = await cli(['services', 'list', '--fleet', '--json', '--timeout', '500']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(JSON.parse(empty.stdout)).toEqual([]);
    const noRunner = await cli(['services', 'list']);
    expect(noRunner.code).toBe(1);
    expect(noRunner.stderr).toContain('no runner is running on this host');

    runner = spawnProc([CLI, 'start', '--directory', dir]);
    await waitFor(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.1.0' && (await banner(ports[CONSUMER]!)) === 'lavap 0.1.0', {
      timeoutMs: 60_000,
      message: `both services up on 0.1.0; runner output:\n${runner.output().slice(-3000)}`,
    });
    const list = await cli(['services', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((s: { service: string; role: string; version: string; state: string }) => [s.service, s.role, s.version, s.state])).toEqual([
      [CONSUMER, 'consumer', '0.1.0', 'running'],
      [PROVIDER, 'provider', '0.1.0', 'running'],
    ]);
  }, 120_000);

  it('setVersion on the chain: every matching service runs the new binary within 5 s of the block, events in order', async () => {
    const before: Record<string, number> = { [PROVIDER]: await lastVersion(PROVIDER), [CONSUMER]: await lastVersion(CONSUMER) };
    const { height } = await chain.setVersion(pv('0.2.0', '0.1.0', '0.2.0', '0.1.0'));
    const blockAt = await blockTime(height);

    await waitFor(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.2.0' && (await banner(ports[CONSUMER]!)) === 'lavap 0.2.0', {
      timeoutMs: 15_000,
      message: `both services on 0.2.0; runner output:\n${runner.output().slice(-3000)}`,
    });
    const changed = await versionChangedAt(height);
    expect(changed.data).toMatchObject({ chainId: CHAIN, height, current: pv('0.2.0', '0.1.0', '0.2.0', '0.1.0') });

    const done: number[] = [];
    for (const service of [PROVIDER, CONSUMER]) {
      const evs = await expectEventually(
        async () => {
          const e = await upgradeEvents(service, before[service]!);
          expect(e.map((x) => x.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
          return e;
        },
        { timeoutMs: 10_000 },
      );
      const [started, upgraded] = evs as [RecordedEvent, RecordedEvent];
      expect(started.data).toMatchObject({ host: HOST, service, chainId: CHAIN, fromVersion: '0.1.0', toVersion: '0.2.0' });
      expect(upgraded.data).toMatchObject({ host: HOST, service, fromVersion: '0.1.0', toVersion: '0.2.0' });
      expect(started.metadata.correlationId).toBe(upgraded.metadata.correlationId);
      // In the one log: the chain's VersionChanged, then this service's UpgradeStarted, then ServiceUpgraded.
      expect(BigInt(changed.globalPosition)).toBeLessThan(BigInt(started.globalPosition));
      expect(BigInt(started.globalPosition)).toBeLessThan(BigInt(upgraded.globalPosition));
      expect(Date.parse(started.occurredAt)).toBeGreaterThanOrEqual(Date.parse(changed.occurredAt));
      done.push(Date.parse(upgraded.occurredAt));
      expect(linked(service)).toBe('v0.2.0');
    }
    const elapsed = Math.max(...done) - blockAt;
    expect(elapsed, `block ${height} -> both ServiceUpgraded`).toBeLessThan(5_000);
    const list = await cli(['services', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((s: { service: string; version: string; state: string }) => [s.service, s.version, s.state])).toEqual([
      [CONSUMER, '0.2.0', 'running'],
      [PROVIDER, '0.2.0', 'running'],
    ]);
  }, 60_000);

  it('a new provider version that crashes at start is rolled back: the old version runs again; the consumer is untouched', async () => {
    const before: Record<string, number> = { [PROVIDER]: await lastVersion(PROVIDER), [CONSUMER]: await lastVersion(CONSUMER) };
    const { height } = await chain.setVersion(pv('0.3.0', '0.1.0', '0.2.0', '0.1.0'));
    await versionChangedAt(height);
    const evs = await expectEventually(
      async () => {
        const e = await upgradeEvents(PROVIDER, before[PROVIDER]!);
        expect(e.map((x) => x.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack']);
        return e;
      },
      { timeoutMs: 15_000, message: `provider rolled back; runner output:\n${runner.output().slice(-3000)}` },
    );
    expect(evs[0]!.data).toMatchObject({ fromVersion: '0.2.0', toVersion: '0.3.0' });
    expect(evs[1]!.data).toMatchObject({ fromVersion: '0.2.0', toVersion: '0.3.0', stage: 'start' });
    expect((evs[1]!.data as { reason: string }).reason).toMatch(/exited with code 1/);
    expect(evs[2]!.data).toMatchObject({ restoredVersion: '0.2.0', failedVersion: '0.3.0' });
    expect(new Set(evs.map((e) => e.metadata.correlationId)).size).toBe(1);
    // The old version is linked and running again (a fresh process answers on the port).
    expect(linked(PROVIDER)).toBe('v0.2.0');
    await waitFor(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.2.0', { timeoutMs: 10_000 });
    // The downloaded 0.3.0 crashed; its own log says so.
    expect(readFileSync(path.join(dir, '.fleetvisor', 'logs', `${PROVIDER}.log`), 'utf8')).toContain('panic: fake crash at start');
    expect(await upgradeEvents(CONSUMER, before[CONSUMER]!)).toEqual([]);
    expect(await banner(ports[CONSUMER]!)).toBe('lavap 0.2.0');
    // The failed version is quarantined for the provider, with the attempt's correlation and the VersionChanged as its cause.
    const quarantined = await expectEventually(
      async () => {
        const q = (await serviceEvents(PROVIDER)).filter((e) => e.streamVersion > before[PROVIDER]! && e.type === 'VersionQuarantined');
        expect(q).toHaveLength(1);
        return q[0]!;
      },
      { timeoutMs: 10_000 },
    );
    expect(quarantined.data).toMatchObject({ host: HOST, service: PROVIDER, version: '0.3.0', stage: 'start' });
    expect(quarantined.metadata.correlationId).toBe(evs[0]!.metadata.correlationId);
    expect(evs[0]!.metadata.causationId).toBe((await versionChangedAt(height)).id);
  }, 60_000);

  it('the quarantined release is not retried: a later VersionChanged with the same provider target restarts nothing', async () => {
    const before = await lastVersion(PROVIDER);
    const pid = pidOf(PROVIDER);
    // Only the consumer's min moves: a new VersionChanged, the provider's target still the broken 0.3.0.
    const { height } = await chain.setVersion(pv('0.3.0', '0.1.0', '0.2.0', '0.2.0'));
    await versionChangedAt(height);
    await runnerSaw(height);
    expect(await upgradeEvents(PROVIDER, before)).toEqual([]);
    expect(pidOf(PROVIDER)).toBe(pid); // never stopped
    const started = (await serviceEvents(PROVIDER)).filter((e) => e.type === 'UpgradeStarted' && (e.data as { toVersion: string }).toVersion === '0.3.0');
    expect(started).toHaveLength(1);
    expect(await banner(ports[PROVIDER]!)).toBe('lavap 0.2.0');
  }, 60_000);

  it('a runner started again brings the services up on the good version, not the quarantined one; upgrades list shows why', async () => {
    const before = await lastVersion(PROVIDER);
    runner.child.kill('SIGTERM');
    await new Promise((r) => runner.child.once('exit', r));
    runner = spawnProc([CLI, 'start', '--directory', dir]);
    await waitFor(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.2.0' && (await banner(ports[CONSUMER]!)) === 'lavap 0.2.0', {
      timeoutMs: 30_000,
      message: `both services up again on 0.2.0; runner output:\n${runner.output().slice(-3000)}`,
    });
    // Another VersionChanged, processed by the new runner: still nothing tried on the provider.
    const { height } = await chain.setVersion(pv('0.3.0', '0.1.0', '0.2.0', '0.1.0'));
    await versionChangedAt(height);
    await runnerSaw(height);
    expect(await upgradeEvents(PROVIDER, before)).toEqual([]);
    expect(linked(PROVIDER)).toBe('v0.2.0');

    type Row = { host: string; services: { service: string; running?: string; linked?: string; installed: string[]; quarantined: { version: string; stage: string; reason: string; at: string }[] }[] };
    for (const args of [[], ['--fleet', '--timeout', '1500'], ['--fleet', '--host', HOST]]) {
      const list = await cli(['upgrades', 'list', ...args, '--json']);
      expect(list.code, list.stderr).toBe(0);
      const rows = JSON.parse(list.stdout) as Row[];
      expect(rows.map((r) => r.host)).toEqual([HOST]);
      const provider = rows[0]!.services.find((x) => x.service === PROVIDER)!;
      expect(provider).toMatchObject({ running: '0.2.0', linked: '0.2.0', installed: ['0.3.0', '0.2.0', '0.1.0'] });
      expect(provider.quarantined).toEqual([{ version: '0.3.0', stage: 'start', reason: expect.stringMatching(/exited with code 1/), at: expect.any(String) }]);
      expect(rows[0]!.services.find((x) => x.service === CONSUMER)!.quarantined).toEqual([]);
    }
    const text = await cli(['upgrades', 'list']);
    expect(text.stdout).toMatch(/HOST\s+SERVICE\s+ROLE\s+RUNNING\s+LINKED\s+INSTALLED\s+QUARANTINED/);
    expect(text.stdout).toMatch(new RegExp(`${HOST}/${PROVIDER} 0\\.3\\.0 since .*\\(start\\): .*exited with code 1`));
  }, 90_000);

  it('upgrades retry (a command over the bus to the host, with its actor) tries the quarantined version again once', async () => {
    const before = await lastVersion(PROVIDER);
    const bad = await cli(['upgrades', 'retry', PROVIDER, '--version', '0.2.0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`0.2.0 of ${PROVIDER} is not quarantined; quarantined: 0.3.0`);
    // A one-shot command prints its answer or its error, no log chatter (issue 14).
    expect(bad.stderr).not.toContain('connected to NATS');
    // The actor is whoever signed the command (ADR 0006): alice's operate key.
    const retry = await cli(['upgrades', 'retry', PROVIDER, '--json'], { FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('operate', 'alice@ops') });
    expect(retry.code, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout)).toEqual({ host: HOST, service: PROVIDER, lifted: ['0.3.0'] });
    const evs = await expectEventually(
      async () => {
        const e = (await serviceEvents(PROVIDER)).filter((x) => x.streamVersion > before && /^(Upgrade|ServiceUpgraded|VersionQuarantined|QuarantineLifted)/.test(x.type));
        expect(e.map((x) => x.type)).toEqual(['QuarantineLifted', 'UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined']);
        return e;
      },
      { timeoutMs: 20_000, message: `retried and rolled back; runner output:\n${runner.output().slice(-3000)}` },
    );
    expect(evs[0]!.data).toMatchObject({ version: '0.3.0', reason: 'upgrades retry', actor: 'alice@ops' });
    expect(evs[0]!.metadata.actor).toBe('alice@ops');
    await waitFor(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.2.0', { timeoutMs: 10_000 });
  }, 60_000);

  it('a target that cannot be had falls back to the highest usable version >= min (not the quarantined one), and is quarantined itself', async () => {
    // 0.2.5 is installed by hand; 0.3.0 is installed too but failed a moment ago; 0.9.0 is published nowhere.
    writeFakeLavap(path.join(dir, '.fleetvisor', 'upgrades', 'v0.2.5'), { version: '0.2.5' });
    const before = await lastVersion(PROVIDER);
    const { height } = await chain.setVersion(pv('0.9.0', '0.2.0', '0.2.0', '0.1.0'));
    await versionChangedAt(height);
    const evs = await expectEventually(
      async () => {
        const e = await upgradeEvents(PROVIDER, before);
        expect(e.map((x) => x.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'ServiceUpgraded']);
        return e;
      },
      { timeoutMs: 15_000, message: `provider on the fallback; runner output:\n${runner.output().slice(-3000)}` },
    );
    expect(evs[0]!.data).toMatchObject({ fromVersion: '0.2.0', toVersion: '0.9.0' });
    expect(evs[1]!.data).toMatchObject({ toVersion: '0.9.0', stage: 'obtain' });
    expect((evs[1]!.data as { reason: string }).reason).toMatch(/HTTP 404.*falling back to 0\.2\.5/);
    expect(evs[2]!.data).toMatchObject({ fromVersion: '0.2.0', toVersion: '0.2.5' });
    expect(linked(PROVIDER)).toBe('v0.2.5');
    await waitFor(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.2.5', { timeoutMs: 10_000 });
    // The unavailable target is quarantined (not asked for again on every reconcile or by a timer).
    expect(stateFile().quarantine[PROVIDER]!['0.9.0']!.reason).toMatch(/HTTP 404/);
    expect(releases.requests('/releases/v0.9.0/manifest.json')).toBe(1);
  }, 60_000);

  it('services list/status over the bus: fleet-wide (every runner answers) and addressed to one host', async () => {
    type Row = { host: string; service: string; role: string; version: string; state: string };
    const rows = (out: string) => (JSON.parse(out) as Row[]).map((r) => [r.host, r.service, r.role, r.version, r.state]);
    const expected = [
      [HOST, CONSUMER, 'consumer', '0.2.0', 'running'],
      [HOST, PROVIDER, 'provider', '0.2.5', 'running'],
    ];
    const fleet = await cli(['services', 'list', '--fleet', '--json', '--timeout', '1500']);
    expect(fleet.code, fleet.stderr).toBe(0);
    expect(rows(fleet.stdout)).toEqual(expected);
    const addressed = await cli(['services', 'list', '--fleet', '--host', HOST, '--json']);
    expect(addressed.code, addressed.stderr).toBe(0);
    expect(rows(addressed.stdout)).toEqual(expected);
    expect(JSON.parse((await cli(['services', 'list', '--fleet', '--host', HOST, '--chain-id', 'other-chain', '--json'])).stdout)).toEqual([]);
    const table = await cli(['services', 'list', '--fleet', '--host', HOST]);
    expect(table.stdout).toMatch(/HOST\s+SERVICE\s+ROLE\s+CHAIN\s+VERSION\s+STATE\s+UPTIME\s+RESTARTS/);
    expect(table.stdout).toMatch(new RegExp(`${HOST}\\s+${PROVIDER}\\s+provider\\s+${CHAIN}\\s+0\\.2\\.5\\s+running`));

    const pid = (JSON.parse(readFileSync(path.join(dir, '.fleetvisor', 'state', `${PROVIDER}.pid`), 'utf8')) as { pid: number }).pid;
    for (const args of [['--host', HOST], ['--timeout', '1000']]) {
      const st = await cli(['services', 'status', PROVIDER, '--fleet', ...args, '--json']);
      expect(st.code, st.stderr).toBe(0);
      expect(JSON.parse(st.stdout)).toEqual([{ host: HOST, status: expect.objectContaining({ service: PROVIDER, role: 'provider', version: '0.2.5', state: 'running', pid }) }]);
    }
    const missing = await cli(['services', 'status', 'nope-LAV9', '--fleet', '--host', HOST]);
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr.split('\n').find((l) => l.startsWith('fleetvisor'))).toBe(`fleetvisor services status: no service nope-LAV9 on ${HOST}; it has: ${PROVIDER}, ${CONSUMER}`);
    const ghost = await cli(['services', 'status', PROVIDER, '--fleet', '--host', 'ghost-host', '--timeout', '500']);
    expect(ghost.code).toBe(1);
    expect(ghost.stderr).toMatch(/service-runner ghost-host is not reachable|no reply from service-runner ghost-host/);
    const badTimeout = await cli(['services', 'list', '--fleet', '--timeout', 'soon']);
    expect(badTimeout.code).not.toBe(0);
    expect(badTimeout.stderr).toContain('--timeout must be a whole number of milliseconds');
  }, 60_000);

  it('upgrades rollback (over the bus, with its actor) switches to an installed version, health-checked, and quarantines the one it left', async () => {
    const before = await lastVersion(PROVIDER);
    const refused = await cli(['upgrades', 'rollback', PROVIDER, '--version', '0.3.0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`0.3.0 is quarantined for ${PROVIDER}`);
    const r = await cli(['upgrades', 'rollback', PROVIDER, '--version', '0.2.0', '--json'], { FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('admin', 'bob@ops') });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ host: HOST, service: PROVIDER, fromVersion: '0.2.5', version: '0.2.0', outcome: 'switched' });
    expect(linked(PROVIDER)).toBe('v0.2.0');
    await waitFor(async () => (await banner(ports[PROVIDER]!)) === 'lavap 0.2.0', { timeoutMs: 10_000 });
    const evs = await expectEventually(
      async () => {
        const e = (await serviceEvents(PROVIDER)).filter((x) => x.streamVersion > before && /^(Upgrade|ServiceUpgraded|VersionQuarantined)/.test(x.type));
        expect(e.map((x) => x.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded', 'VersionQuarantined']);
        return e;
      },
      { timeoutMs: 10_000 },
    );
    expect(evs[0]!.data).toMatchObject({ fromVersion: '0.2.5', toVersion: '0.2.0', actor: 'bob@ops' });
    expect(evs[0]!.metadata.actor).toBe('bob@ops');
    expect(evs[2]!.data).toMatchObject({ version: '0.2.5', stage: 'operator_rollback' });
    // The chain's next version change does not bring 0.2.5 back.
    const { height } = await chain.setVersion(pv('0.9.0', '0.2.0', '0.2.0', '0.2.0'));
    await versionChangedAt(height);
    await runnerSaw(height);
    expect(linked(PROVIDER)).toBe('v0.2.0');
  }, 60_000);
});
