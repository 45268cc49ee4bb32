// Delegated commands (ADR 0010) against the real compiled registry and agent: only a key with the
// role gateway may sign on a token holder's behalf; the delegated role is what the registry checks;
// a delegation changed after signing is refused; nothing changes when refused. A valid delegation
// is carried out and recorded as <gateway key>/token:<holder>.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentThreadList, COMMAND_AUTH_HEADER, createSubjects, WorkerInfo } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { encodeCommandAuth, signCommand } from '@fleetvisor/trust';

const BIN = path.resolve(__dirname, '../../bin/fleetvisor.js');
const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
const logger = createLogger({ name: 'gateway-delegation', level: 'silent', format: 'json', stream: 'stderr' });
const WORKER = 'deleg-w1';
let db: TestDatabase;
let nc: NatsConnection;
const children: ChildProcess[] = [];

function start(args: string[], extra: Record<string, string>): void {
  const env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'deleg-host', FLEETVISOR_LOG_LEVEL: 'warn', ...extra });
  children.push(spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'ignore'] }));
}

const pauseSubject = () => subjects.command('worker-registry', 'pause');

async function send(body: unknown, auth: ReturnType<typeof signCommand>): Promise<{ ok: boolean; error?: { code: string; message: string } }> {
  const h = natsHeaders();
  h.set(COMMAND_AUTH_HEADER, encodeCommandAuth(auth));
  const m = await nc.request(pauseSubject(), Buffer.from(JSON.stringify(body)), { timeout: 10_000, headers: h });
  return JSON.parse(Buffer.from(m.data).toString()) as { ok: boolean; error?: { code: string; message: string } };
}

async function paused(index: number): Promise<boolean> {
  const r = await new CommandBus({ nc, subjects, logger }).request(AgentThreadList, {}, { instance: WORKER, timeoutMs: 5_000 });
  if (!r.ok) throw new Error(r.error.message);
  return r.result!.threads.find((t) => t.index === index)!.threadState === 'paused';
}

async function pauseActors(): Promise<(string | null)[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ actor: string | null }>("SELECT metadata->>'actor' AS actor FROM fv_events WHERE stream_id = $1 AND type = 'ThreadPaused' ORDER BY stream_version", [`worker-${WORKER}`]);
    return r.rows.map((x) => x.actor);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  db = await createTestDatabase('delegation');
  nc = await connect({ servers: sharedNatsUrl() });
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() }, { keys: true });
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
  await deleteTestStreams(bus);
  await db?.drop();
});

describe('delegated commands', () => {
  it('a non-gateway key cannot delegate, even an admin key; nothing is paused', async () => {
    const body = { worker: WORKER, index: 0 };
    for (const role of ['operate', 'admin', 'service'] as const) {
      const auth = signCommand({ subject: pauseSubject(), body, signer: testTrust().signer(role, `mallory-${role}`), act: { name: 'alice', role: 'operate' } });
      expect(await send(body, auth)).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('only a gateway key may act') } });
    }
    expect(await paused(0)).toBe(false);
  });

  it('a forged delegation (role or holder changed after signing) is refused, and a weak delegated role is forbidden', async () => {
    const body = { worker: WORKER, index: 1 };
    const gateway = testTrust().signer('gateway', 'gw-sec');
    const asRead = signCommand({ subject: pauseSubject(), body, signer: gateway, act: { name: 'bob', role: 'read' } });
    expect(await send(body, { ...asRead, act: { name: 'bob', role: 'operate' } })).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect(await send(body, signCommand({ subject: pauseSubject(), body, signer: gateway, act: { name: 'bob', role: 'read' } }))).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: expect.stringContaining('gw-sec/token:bob has role read') },
    });
    // the gateway's key alone, without a delegation, may do nothing
    expect(await send(body, signCommand({ subject: pauseSubject(), body, signer: gateway }))).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await paused(1)).toBe(false);
  });

  it('a valid delegation is carried out and recorded with <gateway>/token:<holder> as the actor', async () => {
    const body = { worker: WORKER, index: 2 };
    const auth = signCommand({ subject: pauseSubject(), body, signer: testTrust().signer('gateway', 'gw-sec'), act: { name: 'alice', role: 'operate' } });
    expect(await send(body, auth)).toMatchObject({ ok: true, result: { worker: WORKER, index: 2, changed: true } });
    expect(await paused(2)).toBe(true);
    await expectEventually(async () => expect(await pauseActors()).toEqual(['gw-sec/token:alice']));
  });
});
