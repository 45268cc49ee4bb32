// Issue 13 item 5 (ADR 0006): hosts carry no database credentials. A service-runner and a
// worker-agent, compiled, are started with an environment that holds NO FLEETVISOR_DATABASE_*
// setting (asserted on the spawned environment and on /proc/<pid>/environ) and still do all their
// work: the runner learns its chain's version from the event stream, starts its service, its events
// reach the log through the central event intake (served here by a `worker-registry run` process,
// which also relays the log to the bus), it follows a VersionChanged and upgrades; the agent's
// reports reach the registry. The test reads the log in Postgres itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { PostgresEventStore } from '@fleetvisor/event-store/core';
import { providerConfigYaml, writeFakeLavap } from '@fleetvisor/devnet';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, freePort, inheritedEnvironment, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { signEvent } from '@fleetvisor/trust';

/** As the chain-watcher records it: signed with its key (runners act only on signed chain events). */
const signed = <E extends Parameters<typeof signEvent>[0]>(e: E): E => signEvent(e, testTrust().signer('chain-watcher'));

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-nodb-1';
const HOST = 'nodb-host';
const WORKER = 'nodb-w1';
const SERVICE = 'provider1-LAV1';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });

interface Proc {
  child: ChildProcess;
  output: () => string;
}

describe('a service-runner and a worker-agent without any database setting', () => {
  const bus = testBusNames();
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresEventStore;
  let dir: string;
  let hostEnv: Record<string, string>;
  const procs: Proc[] = [];

  const spawnProc = (args: string[], env: Record<string, string | undefined>): Proc => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    const p = { child, output: () => out };
    procs.push(p);
    return p;
  };
  const hostCli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args, '--directory', dir], { env: hostEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const streamEvents = async (stream: string): Promise<RecordedEvent[]> => (await store.readStream(stream)).events;
  const environOf = (pid: number): string[] => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);

  beforeAll(async () => {
    db = await createTestDatabase('fvt_hosts_nodb');
    pool = new Pool({ connectionString: db.url, max: 2 });
    store = new PostgresEventStore(pool);
    dir = mkdtempSync(path.join(tmpdir(), 'fv-nodb-host-'));
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    // The central side holds the database credentials: the registry serves the event intake and relays the log.
    spawnProc(['worker-registry', 'run'], fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'nodb-central', FLEETVISOR_LOG_LEVEL: 'warn' }));
    // The host's environment is built from nothing: PATH, HOME, the bus, the host's own settings.
    hostEnv = {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      HOME: dir,
      FLEETVISOR_NATS_URL: sharedNatsUrl(),
      FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
      FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
      FLEETVISOR_HOST: HOST,
      // Hosts hold the fleet's trust root (to verify chain events and commands), never a database setting.
      FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile,
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'info',
      FLEETVISOR_RUNNER_HEALTH_STABLE: '1s',
      FLEETVISOR_RUNNER_STOP_GRACE: '2s',
      // The runner's SIGTERM at the end stops its service too (live-restore would leave it running, ADR 0007).
      FLEETVISOR_RUNNER_LIVE_RESTORE: 'false',
    };
    writeFakeLavap(path.join(dir, '.fleetvisor', 'upgrades', 'v0.1.0'), { version: '0.1.0' });
    writeFakeLavap(path.join(dir, '.fleetvisor', 'upgrades', 'v0.2.0'), { version: '0.2.0' });
    // The chain's first version, as a chain-watcher would have recorded it (the log needs the
    // registry's migrations first: wait until the log takes it).
    await expectEventually(() => store.appendToStream(`chain-${CHAIN}`, [signed(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height: 10, previous: null, current: pv('0.1.0') }))], { expectedVersion: 'no_stream' }).catch((e: Error) => {
      if (/wrong expected version/.test(e.message)) return undefined;
      throw e;
    }), { timeoutMs: 60_000, intervalMs: 250 });
  }, 90_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.child.exitCode === null && p.child.signalCode === null ? new Promise((r) => p.child.once('exit', r)) : undefined)));
    await deleteTestStreams(bus);
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the host environment holds no FLEETVISOR_DATABASE_* variable', () => {
    expect(Object.keys(hostEnv).filter((k) => k.startsWith('FLEETVISOR_DATABASE'))).toEqual([]);
  });

  it('the runner learns the version from the event stream, starts its service, its events reach the log; it follows a VersionChanged and upgrades', async () => {
    // The registry's relay has published the VersionChanged by the time init reads the stream.
    const init = await expectEventually(
      async () => {
        const r = await hostCli(['init', '--chain-id', CHAIN, '--json']);
        expect(r.code, r.stderr).toBe(0);
        return r;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(JSON.parse(init.stdout.trim().split('\n').pop()!)).toMatchObject({ source: 'log', version: '0.1.0' });

    const cfg = path.join(dir, 'p1.yml');
    writeFileSync(cfg, providerConfigYaml('LAV1', `127.0.0.1:${await freePort()}`));
    const created = await hostCli(['create-service', 'provider', cfg, '--geolocation', '1', '--from', 'provider1', '--keyring-backend', 'test', '--chain-id', CHAIN, '--json']);
    expect(created.code, created.stderr).toBe(0);

    const runner = spawnProc(['start', '--directory', dir], hostEnv);
    const serviceEvents = () => streamEvents(`service-${HOST}/${SERVICE}`);
    await expectEventually(async () => expect((await serviceEvents()).map((e) => e.type)).toEqual(['ServiceCreated', 'ServiceStarted']), { timeoutMs: 30_000, message: runner.output() });
    const started = (await serviceEvents())[1]!;
    expect(started.metadata.host).toBe(HOST);
    expect(started.data).toMatchObject({ version: '0.1.0' });
    // The process itself: nothing of a database in its environment, and it said nothing of one.
    expect(environOf(runner.child.pid!).filter((kv) => kv.startsWith('FLEETVISOR_DATABASE'))).toEqual([]);

    await store.appendToStream(`chain-${CHAIN}`, [signed(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height: 20, previous: pv('0.1.0'), current: pv('0.2.0') }))]);
    await expectEventually(
      async () => {
        const types = (await serviceEvents()).map((e) => e.type);
        expect(types.filter((t) => t === 'UpgradeStarted' || t === 'ServiceUpgraded')).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
      },
      { timeoutMs: 40_000, message: 'upgraded to 0.2.0 and recorded' },
    );
    const upgraded = (await serviceEvents()).find((e) => e.type === 'ServiceUpgraded')!;
    expect(upgraded.data).toMatchObject({ toVersion: '0.2.0' });
    expect(runner.output()).not.toMatch(/PostgreSQL|FLEETVISOR_DATABASE/);
    expect(runner.child.exitCode).toBeNull();
  }, 120_000);

  it("the worker-agent's reports reach the registry: its worker is in the log", async () => {
    const agent = spawnProc(['worker-agent', 'run'], {
      ...hostEnv,
      FLEETVISOR_WORKER_NAME: WORKER,
      FLEETVISOR_WORKER_DEST: '127.0.0.1:17899',
      FLEETVISOR_WORKER_REPORT_INTERVAL: '300ms',
      FLEETVISOR_WORKER_SIM_THREADS: '2',
      FLEETVISOR_WORKER_SIM_STEP: '200ms',
    });
    await expectEventually(async () => expect((await streamEvents(`worker-${WORKER}`)).map((e) => e.type)).toContain('WorkerRegistered'), { timeoutMs: 30_000, message: agent.output() });
    const registered = (await streamEvents(`worker-${WORKER}`)).find((e) => e.type === 'WorkerRegistered')!;
    expect(registered.data).toMatchObject({ dest: '127.0.0.1:17899' });
    expect(environOf(agent.child.pid!).filter((kv) => kv.startsWith('FLEETVISOR_DATABASE'))).toEqual([]);
    expect(agent.output()).not.toMatch(/PostgreSQL|FLEETVISOR_DATABASE/);
  }, 60_000);
});
