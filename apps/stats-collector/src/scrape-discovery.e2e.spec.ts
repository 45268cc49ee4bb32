// Scrape discovery end to end, compiled: a `fleetvisor start` runner supervises a (fake) lavap
// consumer whose config has a metrics-listen-address; `fleetvisor stats-collector run`, asking the
// runners every second, finds that endpoint in the runner's `services list` answer, scrapes it,
// and counts exactly the relays the consumer served after its baseline scrape (caller: the
// service, component: its chain). When the runner is gone the target is dropped.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, newEvent, StatsTop, VersionChanged, type ProtocolVersion } from '@fleetvisor/contracts';
import { PostgresEventStore } from '@fleetvisor/event-store/core';
import { consumerConfigYaml, writeFakeLavap } from '@fleetvisor/devnet';
import { CommandBus } from '@fleetvisor/messaging/core';
import { createLogger, freePort } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, inheritedEnvironment, sharedNatsUrl, testBusNames, testTrust, type TestDatabase, metricSample } from '@fleetvisor/testing';
import { signEvent } from '@fleetvisor/trust';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'bin', 'fleetvisor.js');
const CHAIN = 'lava-disc-1';
const HOST = 'disc-host';
const SERVICE = 'consumer1-LAV1';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });

interface Proc {
  child: ChildProcess;
  output: () => string;
}

/** One plain HTTP request; resolves with the status and body. */
function http(method: string, url: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('scrape discovery from the runners', () => {
  const bus = testBusNames();
  let db: TestDatabase;
  let pool: Pool;
  let dir: string;
  let hostEnv: Record<string, string>;
  let metricsBase: string;
  let nc: NatsConnection;
  let commands: CommandBus;
  const procs: Proc[] = [];

  const spawnProc = (args: string[], env: Record<string, string | undefined>): Proc => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-30_000)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-30_000)));
    const p = { child, output: () => out };
    procs.push(p);
    return p;
  };
  const run = (args: string[], env: Record<string, string | undefined>): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const metrics = async () => (await http('GET', `${metricsBase}/metrics`)).body;

  beforeAll(async () => {
    db = await createTestDatabase('fvt_stats_discovery');
    pool = new Pool({ connectionString: db.url, max: 2 });
    dir = mkdtempSync(path.join(tmpdir(), 'fv-stats-disc-'));
    const central = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'disc-central', FLEETVISOR_LOG_LEVEL: 'warn' });
    const migrated = await run(['migrate'], central);
    expect(migrated.code, migrated.stderr).toBe(0);
    // The chain's version, as a chain-watcher records it; the collector's relay puts it on the bus for `init`.
    await new PostgresEventStore(pool).appendToStream(`chain-${CHAIN}`, [signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height: 10, previous: null, current: pv('0.1.0') }), testTrust().signer('chain-watcher'))]);
    const healthPort = await freePort();
    metricsBase = `http://127.0.0.1:${healthPort}`;
    spawnProc(['stats-collector', 'run'], {
      ...central,
      FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${healthPort}`,
      FLEETVISOR_STATS_DISCOVERY_INTERVAL: '1s',
      FLEETVISOR_STATS_DISCOVERY_WAIT: '500ms',
      FLEETVISOR_STATS_SCRAPE_SECONDS: '1',
      FLEETVISOR_STATS_MIN_WINDOW_SECONDS: '1',
      FLEETVISOR_STATS_COMPACT_INTERVAL: '0',
      FLEETVISOR_STATS_ANOMALY_INTERVAL: '0',
    });
    hostEnv = {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      HOME: dir,
      FLEETVISOR_NATS_URL: sharedNatsUrl(),
      FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
      FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
      FLEETVISOR_HOST: HOST,
      // A stopped runner takes its service with it (live-restore would leave it running).
      FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
      FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile,
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'info',
      FLEETVISOR_RUNNER_HEALTH_STABLE: '1s',
      FLEETVISOR_RUNNER_STOP_GRACE: '2s',
    };
    writeFakeLavap(path.join(dir, '.fleetvisor', 'upgrades', 'v0.1.0'), { version: '0.1.0' });
    nc = await connect({ servers: sharedNatsUrl() });
    commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger: createLogger({ name: 'disc-e2e', level: 'silent', format: 'json' }) });
  }, 120_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.child.exitCode === null && p.child.signalCode === null ? new Promise((r) => p.child.once('exit', r)) : undefined)));
    await nc?.close();
    await deleteTestStreams(bus);
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("scrapes the metrics endpoint of a service the runner supervises, counting its relays, and drops it when the runner is gone", async () => {
    await expectEventually(
      async () => {
        const r = await run(['init', '--chain-id', CHAIN, '--json', '--directory', dir], hostEnv);
        expect(r.code, r.stderr).toBe(0);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const relayPort = await freePort();
    const metricsPort = await freePort();
    const cfg = path.join(dir, 'c1.yml');
    writeFileSync(cfg, consumerConfigYaml('LAV1', `127.0.0.1:${relayPort}`, `127.0.0.1:${metricsPort}`));
    const created = await run(['create-service', 'consumer', cfg, '--geolocation', '1', '--from', 'consumer1', '--keyring-backend', 'test', '--chain-id', CHAIN, '--json', '--directory', dir], hostEnv);
    expect(created.code, created.stderr).toBe(0);
    const runner = spawnProc(['start', '--directory', dir], hostEnv);
    await expectEventually(async () => expect((await http('GET', `http://127.0.0.1:${metricsPort}/metrics`)).body).toContain('lava_consumer_total_relays_serviced{spec="LAV1"'), { timeoutMs: 30_000, message: runner.output() });

    // Discovered, then scraped at least twice (the first scrape of a target is its baseline).
    const s = 'service="stats-collector"';
    await expectEventually(async () => expect(metricSample(await metrics(), `fleetvisor_stats_scrape_targets{origin="discovered",${s}}`)).toBe(1), { timeoutMs: 30_000 });
    const scrapes = metricSample(await metrics(), `fleetvisor_stats_scrapes_total{outcome="ok",${s}}`) ?? 0;
    await expectEventually(async () => expect(metricSample(await metrics(), `fleetvisor_stats_scrapes_total{outcome="ok",${s}}`)).toBeGreaterThanOrEqual(scrapes + 2), { timeoutMs: 30_000 });

    const relays = 25;
    for (let i = 0; i < relays; i++) expect((await http('POST', `http://127.0.0.1:${relayPort}/`, '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}')).status).toBe(200);
    const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    await expectEventually(
      async () => {
        const r = await commands.request(StatsTop, { ...range, by: 'caller' }, { timeoutMs: 10_000 });
        expect(r.ok && r.result!.rows.map((x) => [x.key, x.calls])).toEqual([[SERVICE, relays]]);
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    const byComponent = await commands.request(StatsTop, { ...range, by: 'component' }, { timeoutMs: 10_000 });
    expect(byComponent.ok && byComponent.result!.rows.map((x) => x.key)).toEqual(['LAV1']);

    // The runner (and with it its service) goes: after two silent rounds the target is dropped.
    runner.child.kill('SIGTERM');
    await new Promise((r) => runner.child.once('exit', r));
    await expectEventually(async () => expect(metricSample(await metrics(), `fleetvisor_stats_scrape_targets{origin="discovered",${s}}`)).toBe(0), { timeoutMs: 30_000 });
  }, 180_000);
});
