// Attacks with only a NATS connection against commands (issue 13): a raw request with a
// self-declared actor, a remove without reply subject, a direct agent pause, an expired or replayed
// signature, a read key. Each is refused and changes nothing; a valid operator's pause is carried
// out and recorded with the signer as actor. Real compiled registry and agent, shared Postgres/NATS.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentThreadList, COMMAND_AUTH_HEADER, createSubjects, WorkerInfo, WorkerPause } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, fleetvisorEnv, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { encodeCommandAuth, signCommand } from '@fleetvisor/trust';

const BIN = path.resolve(__dirname, '../../bin/fleetvisor.js');
const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
const logger = createLogger({ name: 'forged-commands', level: 'silent', format: 'json', stream: 'stderr' });
const WORKER = 'sec-w1';
let db: TestDatabase;
let nc: NatsConnection;
const children: ChildProcess[] = [];

function start(args: string[], extra: Record<string, string>): ChildProcess {
  const env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'sec-host', FLEETVISOR_LOG_LEVEL: 'warn', ...extra });
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  return child;
}

/** A raw request as an attacker sends it: any body, any headers. */
async function raw(subject: string, body: unknown, hdrs?: ReturnType<typeof natsHeaders>): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  const m = await nc.request(subject, Buffer.from(JSON.stringify(body)), { timeout: 5_000, ...(hdrs ? { headers: hdrs } : {}) });
  return JSON.parse(Buffer.from(m.data).toString()) as { ok: boolean; error?: { code: string; message: string } };
}

const signedHeaders = (subject: string, body: unknown, role: 'operate' | 'read', opts: { now?: number } = {}) => {
  const h = natsHeaders();
  h.set(COMMAND_AUTH_HEADER, encodeCommandAuth(signCommand({ subject, body, signer: testTrust().signer(role, `${role}-key-holder`), ...(opts.now ? { now: opts.now } : {}) })));
  return h;
};

async function threadPaused(index: number): Promise<boolean> {
  const b = new CommandBus({ nc, subjects, logger });
  const r = await b.request(AgentThreadList, {}, { instance: WORKER, timeoutMs: 5_000 });
  if (!r.ok) throw new Error(r.error.message);
  return r.result!.threads.find((t) => t.index === index)!.threadState === 'paused';
}

async function loggedTypes(): Promise<{ type: string; actor: string | null }[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ type: string; actor: string | null }>("SELECT type, metadata->>'actor' AS actor FROM fv_events WHERE stream_id = $1 ORDER BY stream_version", [`worker-${WORKER}`]);
    return r.rows;
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('forgedcmd');
  nc = await connect({ servers: sharedNatsUrl() });
  start(['worker-registry', 'run'], { FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry') });
  start(['worker-agent', 'run'], {
    FLEETVISOR_WORKER_NAME: WORKER,
    FLEETVISOR_WORKER_REPORT_INTERVAL: '300ms',
    FLEETVISOR_WORKER_SIM_THREADS: '3',
    FLEETVISOR_WORKER_SIM_STEP: '60s',
    FLEETVISOR_WORKER_SIM_TEMPORARY_ERROR_RATE: '0',
    FLEETVISOR_WORKER_SIM_PERMANENT_ERROR_RATE: '0',
  });
  const queries = new CommandBus({ nc, subjects, logger });
  await expectEventually(async () => expect((await queries.request(WorkerInfo, { worker: WORKER }, { timeoutMs: 2_000 })).ok).toBe(true), { timeoutMs: 60_000 });
}, 90_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await nc?.close();
  await db?.drop();
});

describe('forged commands change nothing', () => {
  it('a raw pause with a self-declared actor, a remove without reply subject and a direct agent pause are refused', async () => {
    const before = (await loggedTypes()).length;
    expect(await raw(subjects.command('worker-registry', 'pause'), { worker: WORKER, index: 0, actor: 'alice@ops-console' })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    nc.publish(subjects.command('worker-registry', 'remove'), Buffer.from(JSON.stringify({ worker: WORKER })));
    expect(await raw(subjects.instanceCommand('worker-agent', WORKER, 'pause'), { index: 1 })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    await nc.flush();
    // the registry still knows the worker (the remove was refused), and no thread paused
    const queries = new CommandBus({ nc, subjects, logger });
    expect((await queries.request(WorkerInfo, { worker: WORKER }, { timeoutMs: 5_000 })).ok).toBe(true);
    expect(await threadPaused(0)).toBe(false);
    expect(await threadPaused(1)).toBe(false);
    expect((await loggedTypes()).slice(before).map((e) => e.type)).not.toContain('WorkerRemoved');
  });

  it('an expired signature, a read key, and a replay of a valid request are refused', async () => {
    const subject = subjects.command('worker-registry', 'pause');
    const body = { worker: WORKER, index: 2 };
    expect(await raw(subject, body, signedHeaders(subject, body, 'operate', { now: Date.now() - 10 * 60_000 }))).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('expired') } });
    expect(await raw(subject, body, signedHeaders(subject, body, 'read'))).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('has role read; this needs operate') } });
    expect(await threadPaused(2)).toBe(false);
    const captured = signedHeaders(subject, body, 'operate');
    expect(await raw(subject, body, captured)).toMatchObject({ ok: true });
    expect(await threadPaused(2)).toBe(true);
    expect(await raw(subject, body, captured)).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('replay') } });
  });

  it("a valid operator's pause is carried out and recorded with the signer as actor", async () => {
    const operator = new CommandBus({ nc, subjects, logger, signer: testTrust().signer('operate', 'carol@ops') });
    expect(await operator.request(WorkerPause, { worker: WORKER, index: 0 }, { timeoutMs: 10_000 })).toEqual({ ok: true, result: { worker: WORKER, index: 0, changed: true } });
    expect(await threadPaused(0)).toBe(true);
    await expectEventually(async () => expect((await loggedTypes()).filter((e) => e.type === 'ThreadPaused').map((e) => e.actor)).toEqual(['operate-key-holder', 'carol@ops']));
  });
});
