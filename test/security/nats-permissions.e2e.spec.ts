// Least privilege on the bus (issue 13, ADR 0006), against a private nats-server running the
// configuration `fleetvisor nats-config` writes (the compiled CLI), with the identities it made:
// an agent cannot take or report for another worker, nobody but the central services (the relay)
// publishes events, no impostor joins an agent's queue group, oversized messages are refused, only
// admin administers streams, and the real registry, agent and CLI work under their own credentials.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, Events, nkeyAuthenticator, nkeys, type NatsConnection, type NatsError } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentPause, createSubjects, HostOnline, newEvent, type EventEnvelope } from '@fleetvisor/contracts';
import { CommandBus, connectNats, EdgeBus, runnerDurableName } from '@fleetvisor/messaging/core';
import { createLogger, readCoreConfig } from '@fleetvisor/platform';
import { createTestCa, createTestDatabase, expectEventually, inheritedEnvironment, startPrivateNats, testBusNames, testTrust, type PrivateNats, type TestDatabase } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');
const bus = testBusNames();
const root = bus.subjectRoot;
const subjects = createSubjects(root);
const logger = createLogger({ name: 'security-e2e', level: 'silent', format: 'json' });

interface Identity {
  id: string;
  role: string;
  publicKey: string;
  seedFile: string;
  envFile: string;
  inboxPrefix: string;
  created: boolean;
}

let dir: string;
let nats: PrivateNats;
let db: TestDatabase;
let identities: Identity[];
const connections: NatsConnection[] = [];
const children = new Set<ChildProcess>();

function generate(args: string[], into = dir): { identities: Identity[]; tls: boolean; config: string } {
  const r = spawnSync(process.execPath, [BIN, 'nats-config', '--dir', into, '--root', root, '--stream', bus.eventStreamName, '--json', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`nats-config exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { identities: Identity[]; tls: boolean; config: string };
}

function identity(id: string): Identity {
  const i = identities.find((x) => x.id === id);
  if (!i) throw new Error(`no identity ${id}`);
  return i;
}

/** What a process of this identity runs with: its env file (subject root and stream included), plus where the servers are. */
function envFor(id: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const fromFile: Record<string, string> = {};
  for (const line of readFileSync(identity(id).envFile, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) fromFile[m[1]!] = m[2]!;
  }
  return {
    ...inheritedEnvironment(),
    FLEETVISOR_NATS_URL: nats.url,
    FLEETVISOR_DATABASE_URL: db.url,
    FLEETVISOR_LOG_FORMAT: 'json',
    FLEETVISOR_LOG_LEVEL: 'warn',
    // Signing keys (ADR 0006): the registry passes operators' commands on with its service key, the CLI signs as an operator.
    ...(id === 'worker-registry' ? testTrust().env('service', 'worker-registry') : id === 'cli' ? testTrust().env('operate', 'cli-operator') : testTrust().env()),
    ...fromFile,
    ...extra,
  };
}

interface Violation {
  operation: string;
  subject: string;
  queue?: string;
}

/** A client holding one identity's credential, recording the permission violations the server reports. */
async function connectAs(id: string): Promise<{ nc: NatsConnection; violations: Violation[] }> {
  const seed = readFileSync(identity(id).seedFile, 'utf8').trim();
  const nc = await connect({ servers: nats.url, authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)), inboxPrefix: identity(id).inboxPrefix, name: `security-e2e:${id}` });
  connections.push(nc);
  const violations: Violation[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: Violation }).permissionContext;
      if (s.type === Events.Error && ctx) violations.push({ ...ctx });
    }
  })();
  return { nc, violations };
}

/** The error the server gives a subscription, or undefined when it was accepted (a PING round trip later). */
async function subscriptionRefusal(nc: NatsConnection, subject: string, queue?: string): Promise<NatsError | undefined> {
  let refusal: NatsError | undefined;
  const sub = nc.subscribe(subject, {
    ...(queue ? { queue } : {}),
    callback: (err) => {
      if (err) refusal = err;
    },
  });
  await nc.flush();
  await expectEventually(() => expect(refusal !== undefined || !sub.isClosed()).toBe(true));
  // The -ERR arrives before the PONG of a second flush.
  await nc.flush();
  return refusal;
}

async function adminJsm() {
  const { nc } = await connectAs('admin');
  return nc.jetstreamManager();
}

async function streamMessages(): Promise<number> {
  return (await (await adminJsm()).streams.info(bus.eventStreamName)).state.messages;
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

function run(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fv-perms-'));
  const out = generate(['--host', 'h1', '--worker', 'w1', '--worker', 'w2']);
  identities = out.identities;
  expect(out.tls).toBe(false);
  [nats, db] = await Promise.all([startPrivateNats({ config: readFileSync(out.config, 'utf8'), jetstream: true }), createTestDatabase('fvt_perms')]);
  // Streams belong to migrate, run with the admin credential.
  const migrate = run(['migrate', '--json'], envFor('admin'));
  expect(migrate.status, migrate.stderr).toBe(0);
  expect(JSON.parse(migrate.stdout).streams.map((s: { action: string }) => s.action)).toEqual(['created', 'created', 'created']);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.allSettled(connections.map((nc) => nc.close()));
  await nats?.stop();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fleetvisor nats-config files', () => {
  it('writes each seed 0600 and keeps every seed when re-run with one more host and worker', () => {
    for (const i of identities) expect(statSync(i.seedFile).mode & 0o777, i.seedFile).toBe(0o600);
    const again = generate(['--host', 'h1', '--host', 'h2', '--worker', 'w1', '--worker', 'w2', '--worker', 'w3']);
    for (const i of identities) {
      const same = again.identities.find((x) => x.id === i.id)!;
      expect(same).toMatchObject({ publicKey: i.publicKey, created: false });
    }
    expect(again.identities.filter((x) => x.created).map((x) => x.id)).toEqual(['runner-h2', 'agent-w3']);
    identities = again.identities;
  });

  it('is refused by the server with a seed it does not know', async () => {
    const stranger = nkeys.createUser() as { getSeed(): Uint8Array };
    await expect(connect({ servers: nats.url, authenticator: nkeyAuthenticator(stranger.getSeed()), reconnect: false })).rejects.toThrow(/Authorization Violation/i);
  });
});

describe('an agent is confined to its own worker', () => {
  it("worker w1's agent cannot subscribe to w2's commands nor publish a report for w2", async () => {
    const { nc, violations } = await connectAs('agent-w1');
    expect(await subscriptionRefusal(nc, subjects.instanceCommand('worker-agent', 'w1', 'pause'))).toBeUndefined();
    const refused = await subscriptionRefusal(nc, subjects.instanceCommand('worker-agent', 'w2', 'pause'));
    expect(refused?.code).toBe('PERMISSIONS_VIOLATION');
    expect((await subscriptionRefusal(nc, `${root}.cmd.worker-agent.>`))?.code).toBe('PERMISSIONS_VIOLATION');
    // The fleet-wide proving check: every agent hears it, and only agents (a CLI credential cannot answer it).
    expect(await subscriptionRefusal(nc, subjects.command('worker-agent', 'proving-check'))).toBeUndefined();
    expect((await subscriptionRefusal((await connectAs('cli')).nc, subjects.command('worker-agent', 'proving-check')))?.code).toBe('PERMISSIONS_VIOLATION');

    nc.publish(subjects.scopedCommand('worker-registry', 'report', 'w1'), new Uint8Array(0));
    nc.publish(subjects.scopedCommand('worker-registry', 'report', 'w2'), new Uint8Array(0));
    nc.publish(subjects.command('worker-registry', 'report'), new Uint8Array(0));
    await nc.flush();
    await expectEventually(() =>
      expect(violations.filter((v) => v.operation === 'publish').map((v) => v.subject)).toEqual([subjects.scopedCommand('worker-registry', 'report', 'w2'), subjects.command('worker-registry', 'report')]),
    );
  });

  it("an impostor cannot join an agent's queue group, so every pause reaches the real agent", async () => {
    const queue = `${root}-worker-agent.w1`;
    const subject = subjects.instanceCommand('worker-agent', 'w1', 'pause');
    for (const impostor of ['agent-w2', 'cli', 'worker-registry', 'reader']) {
      const { nc } = await connectAs(impostor);
      expect((await subscriptionRefusal(nc, subject, queue))?.code, impostor).toBe('PERMISSIONS_VIOLATION');
    }
    const agent = await connectAs('agent-w1');
    let served = 0;
    const server = new CommandBus({ nc: agent.nc, subjects, logger, auth: { verifier: testTrust().verifier() } }).serve(AgentPause, async (req) => ({ index: req.index, changed: ++served > 0 }), { instance: 'w1' });
    await server.ready;
    const registry = new CommandBus({ nc: (await connectAs('worker-registry')).nc, subjects, logger, signer: testTrust().signer('service', 'worker-registry') });
    for (let i = 0; i < 7; i++) expect(await registry.request(AgentPause, { index: i }, { instance: 'w1', timeoutMs: 5_000 })).toMatchObject({ ok: true, result: { index: i, changed: true } });
    expect(served).toBe(7);
    await server.stop();
  });
});

describe('events and streams', () => {
  it('only the central services (where the relay runs) may publish events', async () => {
    const before = await streamMessages();
    const subject = subjects.event('host-perms', 'HostOnline');
    for (const id of ['agent-w1', 'runner-h1', 'cli', 'reader', 'admin']) {
      const { nc, violations } = await connectAs(id);
      nc.publish(subject, new TextEncoder().encode('{"forged":true}'));
      await nc.flush();
      await expectEventually(() => expect(violations, id).toContainEqual({ operation: 'publish', subject, queue: undefined }));
    }
    expect(await streamMessages()).toBe(before);
    // The relay's identity may (the message is stored).
    const { nc } = await connectAs('worker-registry');
    await nc.jetstream().publish(subject, new TextEncoder().encode('{}'));
    expect(await streamMessages()).toBe(before + 1);
  });

  it('refuses a message over the size limit: the server announces 512 KiB and answers a larger PUB with a payload violation', async () => {
    const { nc } = await connectAs('worker-registry');
    expect(nc.info?.max_payload).toBe(512 * 1024);
    expect(() => nc.publish(subjects.event('host-perms', 'HostOnline'), new Uint8Array(600 * 1024))).toThrow(/MAX_PAYLOAD_EXCEEDED|max_payload|exceeded/i);
    // A client that ignores the announced limit: the server itself refuses.
    const seed = readFileSync(identity('worker-registry').seedFile, 'utf8').trim();
    const kp = nkeys.fromSeed(new TextEncoder().encode(seed)) as { getPublicKey(): string; sign(d: Uint8Array): Uint8Array };
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(nats.port, nats.host);
      let text = '';
      let sent = false;
      // The server closes the connection after its -ERR: what it said is what counts.
      socket.on('error', (e) => (/-ERR/.test(text) ? resolve(text) : reject(e)));
      socket.on('close', () => resolve(text));
      socket.on('data', (d) => {
        text += d.toString();
        if (!sent && text.includes('\r\n') && text.startsWith('INFO ')) {
          sent = true;
          const info = JSON.parse(text.slice(5, text.indexOf('\r\n'))) as { nonce: string };
          const sig = nkeys.encode(kp.sign(new TextEncoder().encode(info.nonce))) as string;
          socket.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, nkey: kp.getPublicKey(), sig, protocol: 1 })}\r\nPING\r\n`);
          // The size is in the PUB line: the server refuses it there, before any payload.
          socket.write(`PUB ${subjects.event('host-perms', 'HostOnline')} ${600 * 1024}\r\n`);
        }
        if (/-ERR/.test(text)) {
          socket.destroy();
          resolve(text);
        }
      });
    });
    expect(answer).toMatch(/-ERR 'Maximum Payload Violation'/);
  });

  it('a non-admin cannot create, purge or delete a stream; admin can', async () => {
    const before = await streamMessages();
    expect(before).toBeGreaterThan(0);
    for (const id of ['cli', 'worker-registry', 'runner-h1', 'reader']) {
      const { nc } = await connectAs(id);
      const jsm = await nc.jetstreamManager({ timeout: 2_000 });
      await expect(jsm.streams.add({ name: `${bus.eventStreamName}_X`, subjects: [`${root}.x.>`] }), id).rejects.toThrow();
      await expect(jsm.streams.purge(bus.eventStreamName), id).rejects.toThrow();
      await expect(jsm.streams.delete(`${bus.eventStreamName}_DLQ`), id).rejects.toThrow();
    }
    const admin = await adminJsm();
    expect((await admin.streams.info(bus.eventStreamName)).state.messages).toBe(before);
    expect((await admin.streams.info(`${bus.eventStreamName}_DLQ`)).config.name).toBe(`${bus.eventStreamName}_DLQ`);
    await expect(admin.streams.find(`${root}.x.y`)).rejects.toThrow(/no stream matches/);
    await admin.streams.add({ name: `${bus.eventStreamName}_X`, subjects: [`${root}.x.>`] });
    expect(await admin.streams.delete(`${bus.eventStreamName}_X`)).toBe(true);
  });
});

describe('the real services under their generated credentials', () => {
  it('registry + agent + `fleetvisor worker pause` work end to end, and the relay publishes what they record', async () => {
    const registry = spawnTracked(['worker-registry', 'run'], envFor('worker-registry'));
    const agent = spawnTracked(
      ['worker-agent', 'run'],
      envFor('agent-w1', {
        FLEETVISOR_WORKER_DEST: '127.0.0.1:17899',
        FLEETVISOR_WORKER_REPORT_INTERVAL: '300ms',
        FLEETVISOR_WORKER_SIM_THREADS: '3',
        FLEETVISOR_WORKER_SIM_STEP: '200ms',
        FLEETVISOR_WORKER_SIM_TEMPORARY_ERROR_RATE: '0',
        FLEETVISOR_WORKER_SIM_PERMANENT_ERROR_RATE: '0',
      }),
    );
    const cli = envFor('cli');
    const list = await expectEventually(
      () => {
        expect(registry.exitCode, registry.output()).toBeNull();
        expect(agent.exitCode, agent.output()).toBeNull();
        const r = run(['worker', 'list', '--json'], cli);
        expect(r.status, r.stderr).toBe(0);
        const workers = (JSON.parse(r.stdout) as { workers: { name: string }[] }).workers;
        expect(workers.map((w) => w.name)).toEqual(['w1']);
        return workers;
      },
      { timeoutMs: 60_000 },
    );
    expect(list).toHaveLength(1);
    const pause = run(['worker', 'pause', 'w1', '0', '--json'], cli);
    expect(pause.status, pause.stderr).toBe(0);
    expect(JSON.parse(pause.stdout)).toMatchObject({ worker: 'w1', index: 0, changed: true });
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      await expectEventually(async () => {
        const r = await pg.query<{ type: string }>("SELECT type FROM fv_events WHERE stream_id = 'worker-w1' AND type = 'ThreadPaused'");
        expect(r.rows).toHaveLength(1);
      });
    } finally {
      await pg.end();
    }
    // The registry's relay (a central identity) published the log's events to the stream.
    const admin = await adminJsm();
    await expectEventually(async () => {
      const last = await admin.streams.getMessage(bus.eventStreamName, { last_by_subj: subjects.event('worker-w1', 'ThreadPaused') });
      expect(last.subject).toBe(subjects.event('worker-w1', 'ThreadPaused'));
    });
    expect(registry.output()).not.toMatch(/Permissions Violation/i);
    expect(agent.output()).not.toMatch(/Permissions Violation/i);
  });
});

describe("a host's runner is confined to its host", () => {
  it('takes only its own host commands and pulls only its own durable consumer, with the library a runner uses', async () => {
    const config = { ...readCoreConfig(envFor('runner-h1')), logLevel: 'silent' as const };
    expect(config.nats.inboxPrefix).toBe(identity('runner-h1').inboxPrefix);
    const edge = new EdgeBus({ serviceName: 'service-runner', config, logger, eventStream: true });
    try {
      const runner = await edge.ready();
      expect(await subscriptionRefusal(runner.nc, subjects.instanceCommand('service-runner', 'h1', 'upgrades-rollback'))).toBeUndefined();
      expect((await subscriptionRefusal(runner.nc, subjects.instanceCommand('service-runner', 'h2', 'upgrades-rollback')))?.code).toBe('PERMISSIONS_VIOLATION');
      const received: EventEnvelope[] = [];
      const own = runner.consumers.create({ name: runnerDurableName('h1'), filter: subjects.eventFilter({ area: 'host' }), deliverPolicy: 'new', handler: async (e) => void received.push(e) });
      await own.start();
      const other = runner.consumers.create({ name: runnerDurableName('h2'), filter: subjects.eventFilter({ area: 'host' }), handler: async () => undefined });
      await expect(other.start()).rejects.toThrow();
      // An event the relay's identity publishes reaches the runner's own consumer, which acks it.
      const e = newEvent(HostOnline, 'h1', { host: 'h1', process: 'perms-e2e', pid: 1, fleetvisorVersion: '0.1.0' }, { host: 'h1', actor: 'perms-e2e' });
      const { nc } = await connectAs('worker-registry');
      await nc.jetstream().publish(subjects.event(e.stream, e.type), new TextEncoder().encode(JSON.stringify(e)), { msgID: e.id });
      await expectEventually(() => expect(received.map((x) => x.id)).toEqual([e.id]));
      const admin = await adminJsm();
      await expectEventually(async () => expect((await admin.consumers.info(bus.eventStreamName, runnerDurableName('h1'))).num_ack_pending).toBe(0));
      await own.stop();
    } finally {
      await edge.close();
    }
  });
});

describe('rollout admission (ADR 0009)', () => {
  it("a runner may ask for its own host only, and no operator for a host; the chain-watcher hears it", async () => {
    const runner = await connectAs('runner-h1');
    runner.nc.publish(subjects.scopedCommand('chain-watcher', 'rollout-admit', 'h1'), new Uint8Array(0));
    runner.nc.publish(subjects.scopedCommand('chain-watcher', 'rollout-admit', 'h2'), new Uint8Array(0));
    await runner.nc.flush();
    await expectEventually(() => expect(runner.violations.filter((v) => v.operation === 'publish').map((v) => v.subject)).toEqual([subjects.scopedCommand('chain-watcher', 'rollout-admit', 'h2')]));
    const operator = await connectAs('cli');
    operator.nc.publish(subjects.scopedCommand('chain-watcher', 'rollout-admit', 'h1'), new Uint8Array(0));
    await operator.nc.flush();
    await expectEventually(() => expect(operator.violations.map((v) => v.subject)).toContain(subjects.scopedCommand('chain-watcher', 'rollout-admit', 'h1')));
    const watcher = await connectAs('chain-watcher');
    expect(await subscriptionRefusal(watcher.nc, subjects.scopedCommandWildcard('chain-watcher', 'rollout-admit'))).toBeUndefined();
  });
});

describe('the generated configuration with TLS', () => {
  it('is served by nats-server 2.9 with client certificates required, and an identity connects with its seed and certificate', async () => {
    const tlsDir = mkdtempSync(path.join(tmpdir(), 'fv-perms-tls-'));
    let server: PrivateNats | undefined;
    try {
      const ca = createTestCa(tlsDir);
      const cert = ca.issue('nats-server', 'server');
      const client = ca.issue('cli-client', 'client');
      const out = generate(['--worker', 'w1', '--tls-cert', cert.certFile, '--tls-key', cert.keyFile, '--tls-ca', ca.caFile], path.join(tlsDir, 'nats'));
      expect(out.tls).toBe(true);
      server = await startPrivateNats({ config: readFileSync(out.config, 'utf8'), jetstream: true });
      const seedFile = out.identities.find((i) => i.id === 'cli')!.seedFile;
      const env = { FLEETVISOR_NATS_URL: server.url.replace('nats://', 'tls://'), FLEETVISOR_NATS_NKEY_SEED_FILE: seedFile, FLEETVISOR_NATS_TLS_CA: ca.caFile };
      const nc = await connectNats(readCoreConfig({ ...env, FLEETVISOR_NATS_TLS_CERT: client.certFile, FLEETVISOR_NATS_TLS_KEY: client.keyFile }), logger);
      expect(nc.info?.tls_required).toBe(true);
      await nc.close();
      await expect(connectNats(readCoreConfig(env), logger, { connectTimeoutMs: 1_000 })).rejects.toThrow(/TLS/);
    } finally {
      await server?.stop();
      rmSync(tlsDir, { recursive: true, force: true });
    }
  });
});
