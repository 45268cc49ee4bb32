// Host liveness as an operator sees it: a real `fleetvisor worker-registry run` hears a host's
// heartbeats; when they stop, `fleetvisor hosts list` shows it SILENT and `services list --fleet`
// says since when; its next heartbeat brings it back (HostExpired, then HostReturned, in the log).
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, HostHeartbeat, type HostSummary } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging';
import { createLogger, freePort } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, fleetvisorEnv, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');
const HOST = 'e2e-silent-host';

const bus = testBusNames();
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let nc: NatsConnection;
let commands: CommandBus;
let registry: ChildProcess | undefined;
let healthPort: number;

/** `fleetvisor_hosts{state=…}` as the registry's /metrics says it now. */
function hostsGauge(state: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${healthPort}/metrics`, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const line = body.split('\n').find((l) => l.startsWith(`fleetvisor_hosts{state="${state}",`));
        resolve(line === undefined ? undefined : Number(line.split(' ').pop()));
      });
    }).on('error', reject);
  });
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function hostsList(): Promise<HostSummary[]> {
  const r = await cli(['hosts', 'list', '--json']);
  if (r.code !== 0) throw new Error(`hosts list exited ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { hosts: HostSummary[] }).hosts;
}

const beat = () => commands.request(HostHeartbeat, { host: HOST, fleetvisorVersion: '0.2.0-e2e', services: 1, sentAt: new Date().toISOString() }, { scope: HOST, timeoutMs: 5_000 });

async function hostEvents(): Promise<string[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query<{ type: string }>('SELECT type FROM fv_events WHERE stream_id = $1 ORDER BY stream_version', [`host-${HOST}`])).rows.map((r) => r.type);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('hoste2e');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'e2e-central', FLEETVISOR_LOG_LEVEL: 'warn', FLEETVISOR_HOST_EXPIRATION: '1s' });
  healthPort = await freePort();
  nc = await connect({ servers: sharedNatsUrl() });
  commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger: createLogger({ name: 'e2e', level: 'silent', format: 'json' }) });
  registry = spawn(process.execPath, [BIN, 'worker-registry', 'run'], {
    env: { ...env, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry'), FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${healthPort}` },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  await expectEventually(async () => expect(await beat()).toMatchObject({ ok: true }), { timeoutMs: 60_000, intervalMs: 300 });
}, 90_000);

afterAll(async () => {
  if (registry && registry.exitCode === null) {
    const exited = new Promise((r) => registry!.once('exit', r));
    registry.kill('SIGTERM');
    await exited;
  }
  if (nc) {
    const jsm = await nc.jetstreamManager();
    for (const s of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  }
  await db?.drop();
});

describe('host liveness through the CLI', () => {
  it('a host that stops its heartbeat is SILENT in hosts list and services list --fleet, and returns with its next heartbeat', async () => {
    // The expiration is 1 s and a CLI start can take longer on a loaded machine: the heartbeat's
    // answer says online; the list may already say expired, but it knows the host and its version.
    expect(await beat()).toMatchObject({ ok: true, result: { state: 'online' } });
    expect((await hostsList()).find((h) => h.host === HOST)).toMatchObject({ version: '0.2.0-e2e' });
    // No more heartbeats: past the 1 s expiration the registry records HostExpired.
    await expectEventually(async () => expect((await hostsList()).find((h) => h.host === HOST)).toMatchObject({ state: 'expired' }), { timeoutMs: 30_000, intervalMs: 300 });
    const text = await cli(['hosts', 'list']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${HOST}\\s+SILENT since \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\s+.*0\\.2\\.0-e2e$`, 'm'));
    const fleet = await cli(['services', 'list', '--fleet', '--timeout', '500']);
    expect(fleet.code, fleet.stderr).toBe(0);
    expect(fleet.stdout).toMatch(new RegExp(`^host ${HOST}: silent since \\S+ \\(no heartbeat for \\d+s\\)$`, 'm'));
    expect(await hostEvents()).toEqual(['HostExpired']);
    // What an alert rule watches: one expired host on the registry's /metrics.
    expect(await hostsGauge('expired')).toBe(1);
    expect(await hostsGauge('online')).toBe(0);

    expect(await beat()).toMatchObject({ ok: true, result: { state: 'online' } });
    await expectEventually(async () => expect(await hostEvents()).toEqual(['HostExpired', 'HostReturned']), { timeoutMs: 10_000 });
    // Online again while it beats (each beat within the 1 s expiration of the check).
    await expectEventually(async () => {
      await beat();
      expect((await hostsList()).find((h) => h.host === HOST)).toMatchObject({ state: 'online' });
    }, { timeoutMs: 20_000 });
    await expectEventually(async () => {
      await beat();
      expect(await hostsGauge('expired')).toBe(0);
    }, { timeoutMs: 20_000 });
  });
});
