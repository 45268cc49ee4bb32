// The `fleetvisor` command as an operator runs it: real processes, real Postgres and NATS.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishDeadLetter } from '@fleetvisor/messaging';
import { adminDatabaseUrl, deleteTestStreams, expectEventually, sharedNatsUrl, testBusNames, inheritedEnvironment } from '@fleetvisor/testing';

const BIN = path.resolve(__dirname, '../../../bin/fleetvisor.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function dbUrl(name: string): string {
  const u = new URL(adminDatabaseUrl());
  u.pathname = '/' + name;
  return u.toString();
}

const dbName = `fvt_cli_${Date.now().toString(36)}`;
const bus = testBusNames();
const env = {
  ...inheritedEnvironment(),
  FLEETVISOR_DATABASE_URL: dbUrl(dbName),
  FLEETVISOR_NATS_URL: sharedNatsUrl(),
  FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
  FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
  FLEETVISOR_HOST: 'e2e-host',
  FLEETVISOR_LOG_FORMAT: 'json',
  // This suite's own demo host: `up` stops what an earlier up left in its state directory.
  FLEETVISOR_UP_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'fvt-cli-up-')),
};

function start(args: string[], extraEnv: Record<string, string> = {}): { child: ChildProcess; result: Promise<Run>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, result, stdout: () => stdout, stderr: () => stderr };
}

const run = (args: string[], extraEnv: Record<string, string> = {}) => start(args, extraEnv).result;

const hostOffline = (reason: string) => JSON.stringify({ host: 'e2e-host', process: 'e2e', pid: 1, reason });

async function dropDb(): Promise<void> {
  const c = new Client({ connectionString: adminDatabaseUrl() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await c.end();
}

describe('fleetvisor CLI', () => {
  beforeAll(dropDb);
  afterAll(async () => {
    await dropDb();
    await deleteTestStreams(bus);
  });

  it('migrate creates the missing database, applies the schema, and is idempotent', async () => {
    const first = await run(['migrate', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).applied.length).toBeGreaterThanOrEqual(3);
    // The streams too: created by the first run (services only check they exist), unchanged by the second.
    expect(JSON.parse(first.stdout).streams).toEqual([
      { name: bus.eventStreamName, action: 'created' },
      { name: `${bus.eventStreamName}_DLQ`, action: 'created' },
      { name: `KV_${bus.subjectRoot}_keys`, action: 'created' },
    ]);
    const second = await run(['migrate', '--json']);
    expect(JSON.parse(second.stdout).applied).toEqual([]);
    expect(JSON.parse(second.stdout).streams.map((x: { action: string }) => x.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  it('events append validates, refuses bad input without writing, and tail shows what was written', async () => {
    const bad = await run(['events', 'append', '--stream', 'host-e2e-host', '--type', 'HostOffline', '--data', '{"host":"e2e-host"}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid event: HostOffline data/);
    const wrongArea = await run(['events', 'append', '--stream', 'chain-x', '--type', 'HostOffline', '--data', hostOffline('x')]);
    expect(wrongArea.code).toBe(2);
    expect(wrongArea.stderr).toMatch(/belongs in a host-\* stream/);

    const ok = await run(['events', 'append', '--stream', 'host-e2e-host', '--type', 'HostOffline', '--data', hostOffline('maintenance'), '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const appended = JSON.parse(ok.stdout);
    expect(appended).toMatchObject({ stream: 'host-e2e-host', appended: 1, nextExpectedVersion: 1 });

    const conflict = await run(['events', 'append', '--stream', 'host-e2e-host', '--type', 'HostOffline', '--data', hostOffline('again'), '--expected-version', 'no_stream']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toMatch(/expected.*no_stream|no_stream.*expected|version/i);

    const tail = await run(['events', 'tail', '--from', 'beginning', '--once', '--json']);
    expect(tail.code, tail.stderr).toBe(0);
    const events = tail.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ id: appended.id, type: 'HostOffline', stream: 'host-e2e-host', data: { reason: 'maintenance' } });
  });

  it('events rebuild replays the log into a projection with progress', async () => {
    const r = await run(['events', 'rebuild', 'stream-stats', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ projection: 'stream-stats', processed: 1 });
    expect(r.stderr).toMatch(/"progress":\{"processed":1/);
    const unknown = await run(['events', 'rebuild', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown projection "nope"; known: stream-stats/);
  });

  it('up runs the backbone: events reach the bus through the relay and are shown live; Ctrl-C records HostOffline', async () => {
    const up = start(['up', '--json', '--backbone-only']);
    // HostOnline travels log -> relay -> JetStream -> the bus tail of `up` itself.
    await expectEventually(() => expect(up.stdout()).toMatch(/"type":"HostOnline"/), { timeoutMs: 30_000 });
    const note = await run(['events', 'append', '--stream', 'host-other', '--type', 'HostOffline', '--data', JSON.stringify({ host: 'other', process: 'e2e', pid: 2, reason: 'live' })]);
    expect(note.code, note.stderr).toBe(0);
    await expectEventually(() => expect(up.stdout()).toMatch(/"stream":"host-other"/), { timeoutMs: 15_000 });
    up.child.kill('SIGINT');
    const done = await up.result;
    expect(done.code, done.stderr).toBe(0);
    const tail = await run(['events', 'tail', '--from', 'beginning', '--once', '--json', '--stream', 'host-e2e-host', '--type', 'HostOffline']);
    expect(tail.stdout).toMatch(/received SIGINT/);
  });

  it('up runs the whole local stack: the chain is watched, workers register, the demo host upgrades on a version change, Ctrl-C stops all', async () => {
    const up = start(['up', '--json', '--devnet-port', '0', '--gateway-port', '0', '--workers', '1', '--block-time', '300ms'], { FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0' });
    const events = (type: string) => up.stdout().split('\n').filter((l) => l.includes(`"type":"${type}"`));
    // The chain-watcher records the devnet's version; the worker-agent's reports register the worker;
    // the demo host's runner starts its lavap provider and consumer.
    await expectEventually(() => expect(up.stdout()).toMatch(/"type":"VersionChanged".*"chainId":"lava-testnet-2"/), { timeoutMs: 60_000 });
    await expectEventually(() => expect(up.stdout()).toMatch(/"type":"WorkerRegistered".*"name":"sim-worker-01"/), { timeoutMs: 60_000 });
    await expectEventually(() => expect(events('ServiceStarted')).toHaveLength(2), { timeoutMs: 60_000 });
    const list = await run(['worker', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ workers: [{ name: 'sim-worker-01', threads: 8 }] });

    // A governance-style version bump on the local chain moves both services to the new binary.
    const rpc = /"rpc":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(up.stderr())?.[1];
    expect(rpc).toBeDefined();
    const bump = await run(['devnet', 'set-version', '--node', rpc!, '--provider-target', '0.22.1', '--provider-min', '0.21.0', '--consumer-target', '0.22.1', '--consumer-min', '0.21.0']);
    expect(bump.code, bump.stderr).toBe(0);
    await expectEventually(() => expect(events('ServiceUpgraded')).toHaveLength(2), { timeoutMs: 60_000 });
    expect(events('ServiceUpgraded').join('\n')).toMatch(/"toVersion":"0\.22\.1"/);

    up.child.kill('SIGINT');
    const done = await up.result;
    expect(done.code, done.stderr).toBe(0);
    // Every component said it stopped; none was left to be killed.
    for (const proc of ['chain-watcher', 'worker-registry', 'worker-agent sim-worker-01', 'service-runner']) expect(done.stderr).toContain(`"process":"${proc}"`);
    expect(done.stderr).not.toMatch(/ignored SIGTERM/);
  });

  it('events dead-letters lists what consumers set aside, with the reason', async () => {
    const nc = await connect({ servers: sharedNatsUrl() });
    try {
      const payload = new TextEncoder().encode('{not json');
      await publishDeadLetter(nc.jetstream(), `${bus.subjectRoot}.dlq.registry`, payload, {
        kind: 'malformed',
        reason: 'payload is not JSON',
        originalSubject: `${bus.subjectRoot}.evt.worker.w1.ThreadPaused`,
        consumer: 'registry',
      });
    } finally {
      await nc.close();
    }
    const r = await run(['events', 'dead-letters', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ consumer: 'registry', kind: 'malformed', reason: 'payload is not JSON', payload: '{not json' });
    const other = await run(['events', 'dead-letters', '--consumer', 'someone-else']);
    expect(other.stdout).toMatch(/no dead letters/);
  });

  it('names the variable when a dependency is unreachable or a setting is invalid', async () => {
    const pg = await run(['events', 'tail', '--once'], { FLEETVISOR_DATABASE_URL: 'postgres://postgres:pw@127.0.0.1:1/fleetvisor' });
    expect(pg.code).toBe(1);
    // The password is taken out of the URL when the settings are read: the message shows the URL without it.
    expect(pg.stderr).toMatch(/cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/fleetvisor \(set by FLEETVISOR_DATABASE_URL\)/);
    expect(pg.stderr).not.toMatch(/:pw@/);
    const cfg = await run(['migrate'], { FLEETVISOR_NATS_URL: 'http://x' });
    expect(cfg.code).toBe(1);
    expect(cfg.stderr).toMatch(/FLEETVISOR_NATS_URL: expected a nats/);
    const nats = await run(['up'], { FLEETVISOR_NATS_URL: 'nats://127.0.0.1:1' });
    expect(nats.code).toBe(1);
    expect(nats.stderr).toMatch(/FLEETVISOR_NATS_URL/);
  });
});
