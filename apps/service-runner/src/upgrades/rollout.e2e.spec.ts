// Fleet-wide rollout with the compiled program (ADR 0009): a devnet chain, a `chain-watcher run`
// process (coordinator, relay and event intake), three `fleetvisor start` runners on three homes
// (FLEETVISOR_HOST rh1..rh3, FLEETVISOR_RUNNER_ROLLOUT=coordinated), Postgres and NATS. Policy:
// canary rh1, max_parallel 1, min_healthy_time 5 s. A good release reaches rh1 first and each other
// host only after the previous one was healthy for 5 s; a broken one halts after the canary with
// the others untouched; `upgrades rollout resume` and `abort` (signed) do what they say.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { connect as natsConnect } from 'nats';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolVersion, RecordedEvent, RolloutView } from '@fleetvisor/contracts';
import { PostgresEventStore } from '@fleetvisor/event-store/core';
import { startDevnetChain, type DevnetChain } from '@fleetvisor/devnet';
import { createTestDatabase, expectEventually, freePort, inheritedEnvironment, sharedNatsUrl, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { RunnerFixture } from '../../test/runner-fixture';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-rollout-e2e';
const HOSTS = ['rh1', 'rh2', 'rh3'] as const;
const SERVICE = 'provider1-LAV1';
const MIN_HEALTHY_MS = 5_000;
const pv = (provider: string): ProtocolVersion => ({ providerTarget: provider, providerMin: '0.1.0', consumerTarget: '0.1.0', consumerMin: '0.1.0' });

interface Proc {
  child: ChildProcess;
  output: () => string;
}

describe('fleet-wide rollout across three runner hosts', () => {
  let db: TestDatabase;
  let chain: DevnetChain;
  let pool: Pool;
  let store: PostgresEventStore;
  let env: Record<string, string>;
  const bus = testBusNames();
  const procs: Proc[] = [];
  const homes = new Map<string, RunnerFixture>();

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
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('operate', 'alice'), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const hostEnv = (host: string) => ({ FLEETVISOR_RUNNER_LIVE_RESTORE: 'false', FLEETVISOR_HOST: host, FLEETVISOR_RUNNER_DIRECTORY: homes.get(host)!.dir, HOME: homes.get(host)!.dir });
  const events = async (stream: string): Promise<RecordedEvent[]> => (await store.readStream(stream)).events;
  const upgradeStarts = async (host: string, to: string) => (await events(`service-${host}/${SERVICE}`)).filter((e) => e.type === 'UpgradeStarted' && (e.data as { toVersion: string }).toVersion === to);
  const linked = (host: string): string | undefined => homes.get(host)!.home.linkedVersion(homes.get(host)!.home.serviceLink(SERVICE));
  const rollout = async (): Promise<RolloutView> => {
    const r = await cli(['upgrades', 'rollout', 'status', '--chain-id', CHAIN, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as RolloutView[])[0]!;
  };
  const rolloutEvents = async () => (await events(`chain-${CHAIN}/rollout`)).map((e) => ({ type: e.type, host: (e.data as { host?: string }).host, at: e.occurredAt, data: e.data }));

  beforeAll(async () => {
    db = await createTestDatabase('fvt_rollout');
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    pool = new Pool({ connectionString: db.url, max: 2 });
    store = new PostgresEventStore(pool);
    chain = await startDevnetChain({ chainId: CHAIN, blockTimeMs: 500, version: pv('0.1.0') });
    env = {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      FLEETVISOR_NATS_URL: sharedNatsUrl(),
      FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
      FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'info',
      TZ: 'UTC',
      ...testTrust().env('chain-watcher'),
      FLEETVISOR_RUNNER_HEALTH_STABLE: '500ms',
      FLEETVISOR_RUNNER_HEALTH_TIMEOUT: '3s',
      FLEETVISOR_RUNNER_STOP_GRACE: '2s',
      FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms',
      FLEETVISOR_RUNNER_RESTART_MAX: '1s',
      FLEETVISOR_RUNNER_ROLLOUT: 'coordinated',
      FLEETVISOR_RUNNER_ROLLOUT_RETRY_MAX: '500ms',
    };
    for (const host of HOSTS) {
      const fx = new RunnerFixture(testCoreConfig(db.url, bus, { host }), CHAIN, `fv-rollout-${host}-`, [testTrust().root.publicKey]);
      fx.install('0.1.0');
      fx.install('0.2.0');
      fx.install('0.3.0', 'crash-at-start');
      fx.setCurrent('0.1.0');
      fx.writeHomeConfig({ upgrade: { probe: 'tcp' } });
      fx.addService({ role: 'provider', from: 'provider1', chainLabel: 'LAV1', port: await freePort() });
      homes.set(host, fx);
    }
    spawnProc([CLI, 'chain-watcher', 'run'], {
      FLEETVISOR_HOST: 'rollout-cw',
      FLEETVISOR_DATABASE_URL: db.url,
      FLEETVISOR_CHAINS: `${CHAIN}=${chain.rpcUrl}`,
      FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0',
      FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
      FLEETVISOR_ROLLOUT: `${CHAIN}:canary=rh1,max_parallel=1,min_healthy_time=${MIN_HEALTHY_MS}ms,healthy_deadline=60s`,
      FLEETVISOR_ROLLOUT_TICK: '200ms',
    });
    await expectEventually(async () => expect((await events(`chain-${CHAIN}`)).map((e) => e.type)).toContain('VersionChanged'), { timeoutMs: 60_000 });
    // Each runner holds no database setting: a host has none (ADR 0006).
    for (const host of HOSTS) spawnProc([CLI, 'start'], hostEnv(host));
    for (const host of HOSTS) {
      await expectEventually(async () => expect((await events(`service-${host}/${SERVICE}`)).map((e) => e.type)).toContain('ServiceStarted'), { timeoutMs: 60_000 });
    }
  }, 120_000);

  afterAll(async () => {
    for (const p of procs.reverse()) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGTERM');
      await Promise.race([new Promise((r) => p.child.once('exit', r)), new Promise((r) => setTimeout(r, 5_000))]);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
    for (const fx of homes.values()) {
      const stateDir = fx.home.stateDir;
      for (const f of existsSync(stateDir) ? readdirSync(stateDir).filter((n) => n.endsWith('.pid')) : []) {
        try {
          process.kill((JSON.parse(readFileSync(path.join(stateDir, f), 'utf8')) as { pid: number }).pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      fx.remove();
    }
    const nc = await natsConnect({ servers: sharedNatsUrl() }).catch(() => undefined);
    if (nc) {
      const jsm = await nc.jetstreamManager();
      for (const name of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`]) await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    }
    await pool?.end();
    await chain?.stop();
    await db?.drop();
  }, 60_000);

  it('a good release reaches the canary first, and each other host only after the previous one was healthy for min_healthy_time', async () => {
    await chain.setVersion(pv('0.2.0'));
    // Meanwhile the hosts not admitted hold the upgrade and say so (whichever of rh2 / rh3 goes
    // last waits for two waves: long enough to be seen in both forms).
    await expectEventually(
      async () => {
        const shown: string[] = [];
        const seen: string[] = [];
        for (const host of ['rh2', 'rh3']) {
          const text = await cli(['services', 'list'], hostEnv(host));
          seen.push(text.stdout);
          expect(text.code, text.stderr).toBe(0);
          if (!new RegExp(`^${host}: pending admission \\(fleet-wide rollout\\) for provider1-LAV1@0\\.2\\.0 since \\S+: wait: `, 'm').test(text.stdout)) continue;
          const raw = (await cli(['services', 'list', '--json'], hostEnv(host))).stdout;
          seen.push(raw);
          const json = JSON.parse(raw) as { host: string; version: string; pendingAdmission?: { services: string } }[];
          if (json[0]?.pendingAdmission?.services === 'provider1-LAV1@0.2.0' && json[0].version === '0.1.0') shown.push(host);
        }
        expect(shown.length, seen.join('\n')).toBeGreaterThan(0);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    await waitFor(() => HOSTS.every((h) => linked(h) === '0.2.0'), { timeoutMs: 60_000, message: `every host on 0.2.0:\n${procs[0]!.output().slice(-2000)}` });
    await expectEventually(async () => expect((await rollout()).state).toBe('completed'), { timeoutMs: 30_000 });

    const log = await rolloutEvents();
    expect(log.filter((e) => e.type === 'RolloutHostAdmitted').map((e) => e.host)).toEqual(['rh1', expect.any(String), expect.any(String)]);
    const healthy = new Map(log.filter((e) => e.type === 'RolloutHostHealthy').map((e) => [e.host!, Date.parse((e.data as { since: string }).since)]));
    const order = log.filter((e) => e.type === 'RolloutHostAdmitted').map((e) => e.host!);
    for (let i = 1; i < order.length; i++) {
      // Its upgrade started after the previous host had been healthy for min_healthy_time, never before.
      const started = Date.parse((await upgradeStarts(order[i]!, '0.2.0'))[0]!.occurredAt);
      expect(started - healthy.get(order[i - 1]!)!).toBeGreaterThanOrEqual(MIN_HEALTHY_MS);
    }
    const status = await cli(['upgrades', 'rollout', 'status', '--chain-id', CHAIN]);
    expect(status.stdout).toMatch(/COMPLETED/);
    expect(status.stdout).toMatch(/wave 0 \(canary\): rh1/);
  }, 120_000);

  it('a broken release halts after the canary, the others untouched; resume lets the next host try it; abort stops the rest', async () => {
    await chain.setVersion(pv('0.3.0'));
    await expectEventually(async () => expect((await rollout()).state).toBe('halted'), { timeoutMs: 60_000 });
    const halted = await rollout();
    expect(halted.haltReason).toMatch(/^rh1\/provider1-LAV1: UpgradeFailed 0\.2\.0 -> 0\.3\.0 at /);
    expect(halted.hosts.find((h) => h.host === 'rh1')).toMatchObject({ state: 'failed', wave: 0 });
    // rh1 rolled back; the others never started an upgrade to 0.3.0 and still run 0.2.0.
    await waitFor(() => linked('rh1') === '0.2.0', { timeoutMs: 30_000, message: 'rh1 rolled back to 0.2.0' });
    for (const h of ['rh2', 'rh3']) {
      expect(await upgradeStarts(h, '0.3.0')).toEqual([]);
      expect(linked(h)).toBe('0.2.0');
    }
    const text = await cli(['upgrades', 'rollout', 'status', '--chain-id', CHAIN]);
    expect(text.stdout).toMatch(/HALTED/);
    expect(text.stdout).toMatch(/halted: rh1\/provider1-LAV1: UpgradeFailed/);

    const resumed = await cli(['upgrades', 'rollout', 'resume', '--chain-id', CHAIN]);
    expect(resumed.code, resumed.stderr).toBe(0);
    // The next wave admits one host, which tries 0.3.0, fails, and halts the rollout again.
    await expectEventually(
      async () => {
        const r = await rollout();
        expect(r.state).toBe('halted');
        expect(r.hosts.filter((h) => h.state === 'failed')).toHaveLength(2);
      },
      { timeoutMs: 60_000 },
    );
    const aborted = await cli(['upgrades', 'rollout', 'abort', '--chain-id', CHAIN, '--reason', 'broken release']);
    expect(aborted.code, aborted.stderr).toBe(0);
    const after = await rollout();
    expect(after).toMatchObject({ state: 'aborted', abortReason: 'broken release (by alice)' });
    const untouched = after.hosts.find((h) => h.state === 'waiting')!.host;
    expect(await upgradeStarts(untouched, '0.3.0')).toEqual([]);
    expect(linked(untouched)).toBe('0.2.0');
    const log = await events(`chain-${CHAIN}/rollout`);
    expect(log.filter((e) => e.type === 'RolloutResumed' || e.type === 'RolloutAborted').map((e) => [e.type, e.metadata.actor])).toEqual([
      ['RolloutResumed', 'alice'],
      ['RolloutAborted', 'alice'],
    ]);
  }, 150_000);
});
