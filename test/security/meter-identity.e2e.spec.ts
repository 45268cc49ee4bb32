// A metering proxy's own NATS identity (`fleetvisor nats-config --meter NAME`), against a private
// nats-server running the generated configuration: the real `fleetvisor meter --source m1` with
// m1's credential gets its counts to a real stats-collector (running as the stats-collector
// identity), while the same credential cannot push as m2 (the server refuses the publish, so
// nothing of it is stored), subscribe to the push subjects or publish events; the collector
// itself refuses a batch whose source is not its subject's.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, Events, nkeyAuthenticator, type NatsConnection, type NatsError } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, StatsPush, StatsTop } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging/core';
import { createLogger, freePort } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, inheritedEnvironment, startPrivateNats, testBusNames, testTrust, type PrivateNats, type TestDatabase } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');
const bus = testBusNames();
const root = bus.subjectRoot;
const subjects = createSubjects(root);
const logger = createLogger({ name: 'meter-identity-e2e', level: 'silent', format: 'json' });
const TOKEN = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"name":"t01000-sealer","perm":"write"}').toString('base64url')}.sig`;

interface Identity {
  id: string;
  role: string;
  seedFile: string;
  envFile: string;
  inboxPrefix: string;
}

let dir: string;
let nats: PrivateNats;
let db: TestDatabase;
let identities: Identity[];
let upstream: http.Server;
let upstreamUrl: string;
const connections: NatsConnection[] = [];
const children = new Set<ChildProcess>();

function identity(id: string): Identity {
  const i = identities.find((x) => x.id === id);
  if (!i) throw new Error(`no identity ${id}: ${identities.map((x) => x.id).join(', ')}`);
  return i;
}

/** What a process of this identity runs with: its env file, plus where the servers are. */
function envFor(id: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const fromFile: Record<string, string> = {};
  for (const line of readFileSync(identity(id).envFile, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) fromFile[m[1]!] = m[2]!;
  }
  return { ...inheritedEnvironment(), FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_DATABASE_URL: db.url, FLEETVISOR_LOG_FORMAT: 'json', FLEETVISOR_LOG_LEVEL: 'info', ...testTrust().env(), ...fromFile, ...extra };
}

async function connectAs(id: string): Promise<{ nc: NatsConnection; violations: { operation: string; subject: string }[] }> {
  const seed = readFileSync(identity(id).seedFile, 'utf8').trim();
  const nc = await connect({ servers: nats.url, authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), inboxPrefix: identity(id).inboxPrefix, name: `meter-identity-e2e:${id}` });
  connections.push(nc);
  const violations: { operation: string; subject: string }[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === Events.Error && ctx) violations.push({ operation: ctx.operation, subject: ctx.subject });
    }
  })();
  return { nc, violations };
}

function spawnTracked(args: string[], env: NodeJS.ProcessEnv): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: () => string };
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.output = () => out;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function call(port: number, method: string): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/rpc/v1`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }) });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fv-meter-id-'));
  const r = spawnSync(process.execPath, [BIN, 'nats-config', '--dir', dir, '--root', root, '--stream', bus.eventStreamName, '--json', '--host', 'h1', '--meter', 'm1', '--meter', 'm2'], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as { identities: Identity[]; config: string };
  identities = out.identities;
  [nats, db] = await Promise.all([startPrivateNats({ config: readFileSync(out.config, 'utf8'), jetstream: true }), createTestDatabase('fvt_meter_id')]);
  const migrate = spawnSync(process.execPath, [BIN, 'migrate'], { env: envFor('admin'), encoding: 'utf8', timeout: 60_000 });
  expect(migrate.status, migrate.stderr).toBe(0);
  upstream = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":{"Height":1}}'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/rpc/v1`;
}, 120_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.allSettled(connections.map((nc) => nc.close()));
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
  await nats?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetvisor nats-config --meter', () => {
  it('writes one meter identity per --meter, its seed 0600, its env file naming the source it may use', () => {
    expect(identities.filter((i) => i.role === 'meter').map((i) => i.id)).toEqual(['meter-m1', 'meter-m2']);
    expect(statSync(identity('meter-m1').seedFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(identity('meter-m1').envFile, 'utf8')).toContain('fleetvisor meter --source m1 ');
  });

  it('a meter credential publishes only its own push subject', async () => {
    const { nc, violations } = await connectAs('meter-m1');
    nc.publish(subjects.scopedCommand('stats-collector', 'push', 'm1'), new Uint8Array(0));
    nc.publish(subjects.scopedCommand('stats-collector', 'push', 'm2'), new Uint8Array(0));
    nc.publish(subjects.scopedCommand('stats-collector', 'push', 'h1'), new Uint8Array(0));
    nc.publish(subjects.event('stats-x', 'ApiCallsRecorded'), new Uint8Array(0));
    nc.publish(subjects.command('stats-collector', 'top'), new Uint8Array(0));
    await nc.flush();
    await expectEventually(() =>
      expect(violations.filter((v) => v.operation === 'publish').map((v) => v.subject)).toEqual([
        subjects.scopedCommand('stats-collector', 'push', 'm2'),
        subjects.scopedCommand('stats-collector', 'push', 'h1'),
        subjects.event('stats-x', 'ApiCallsRecorded'),
        subjects.command('stats-collector', 'top'),
      ]),
    );
    let refusal: NatsError | undefined;
    nc.subscribe(`${root}.cmd.stats-collector.push.>`, { callback: (err) => void (err && (refusal = err)) });
    await nc.flush();
    await expectEventually(() => expect(refusal?.code).toBe('PERMISSIONS_VIOLATION'));
  });
});

describe('the real meter and collector under their generated credentials', () => {
  it("m1's counts arrive; m1's credential pushing as m2 is refused by the server and stores nothing; a forged source is refused by the collector", async () => {
    const collector = spawnTracked(['stats-collector', 'run'], envFor('stats-collector', { FLEETVISOR_HOST: 'meter-id-central', FLEETVISOR_STATS_MIN_WINDOW_SECONDS: '1', FLEETVISOR_STATS_COMPACT_INTERVAL: '0', FLEETVISOR_STATS_ANOMALY_INTERVAL: '0' }));
    await expectEventually(() => expect(collector.output()).toContain('stats-collector: serving'), { timeoutMs: 60_000, message: collector.output() });
    const port = await freePort();
    const meter = spawnTracked(['meter', '--listen', `127.0.0.1:${port}`, '--upstream', upstreamUrl, '--component', 'venus', '--source', 'm1', '--window', '1'], envFor('meter-m1'));
    // The same credential claiming another meter's name.
    const impostorPort = await freePort();
    const impostor = spawnTracked(['meter', '--listen', `127.0.0.1:${impostorPort}`, '--upstream', upstreamUrl, '--component', 'venus-impostor', '--source', 'm2', '--window', '1'], envFor('meter-m1'));
    await expectEventually(() => {
      expect(meter.output()).toContain('meter: venus at');
      expect(impostor.output()).toContain('meter: venus-impostor at');
    }, { timeoutMs: 30_000 });
    for (let i = 0; i < 12; i++) await call(port, 'Filecoin.ChainHead');
    for (let i = 0; i < 5; i++) await call(impostorPort, 'Filecoin.ChainHead');

    const { nc } = await connectAs('cli');
    const commands = new CommandBus({ nc, subjects, logger });
    const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    await expectEventually(
      async () => {
        const r = await commands.request(StatsTop, { ...range, by: 'component' }, { timeoutMs: 10_000 });
        expect(r.ok && r.result!.rows.map((x) => [x.key, x.calls])).toEqual([['venus', 12]]);
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    // The impostor's push was refused by the server (it says so); so nothing of it can have been stored.
    await expectEventually(() => expect(impostor.output()).toMatch(/PERMISSIONS_VIOLATION|Permissions Violation/i), { timeoutMs: 30_000, message: impostor.output() });
    const after = await commands.request(StatsTop, { ...range, by: 'component' }, { timeoutMs: 10_000 });
    expect(after.ok && after.result!.rows.map((x) => x.key)).toEqual(['venus']);
    expect(meter.output()).not.toMatch(/Permissions Violation/i);

    // On its own subject, a body naming another source: refused by the collector (scope), not stored.
    const m1 = new CommandBus({ nc: (await connectAs('meter-m1')).nc, subjects, logger });
    const w = Math.floor(Date.now() / 10_000) * 10_000 - 10_000;
    const forged = await m1.request(StatsPush, { source: 'm2', windowStart: new Date(w).toISOString(), windowSeconds: 10, part: 0, records: [{ caller: 'x', component: 'forged', method: 'Filecoin.ChainHead', calls: 1, errors: 0 }] }, { scope: 'm1', timeoutMs: 10_000 });
    expect(forged).toMatchObject({ ok: false, error: { message: expect.stringMatching(/^scope:/) } });
    expect(collector.output()).not.toMatch(/Permissions Violation/i);
  }, 120_000);
});
