// The compiled gateway against a real worker-registry and worker-agent (shared Postgres and NATS,
// this suite's own database and bus names): every route with each role (401 / 403 and nothing
// changed), mutating calls recorded with the token's name, the live SSE stream and its resume,
// token revocation without a restart, two gateways side by side, the rate limit, health and
// metrics (promtool), the OpenAPI document (a real validator; every response checked against it),
// and the CLI through the gateway (--url). Forged delegations on the bus: test/security/gateway-delegation.e2e.spec.ts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, WorkerInfo } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, freePort, promtool, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { OpenApiResponses } from '../test/openapi-check';

const BIN = path.resolve(__dirname, '../../../bin/fleetvisor.js');
const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
const logger = createLogger({ name: 'gateway-e2e', level: 'silent', format: 'json', stream: 'stderr' });
const WORKER = 'gw-w1';
let db: TestDatabase;
let nc: NatsConnection;
const children: ChildProcess[] = [];
let base = '';
let baseB = '';
let openapi: OpenApiResponses;
const tokens: Record<'read' | 'operate' | 'admin', string> = { read: '', operate: '', admin: '' };

function env(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'gw-host', FLEETVISOR_LOG_LEVEL: 'warn', ...extra });
}

function start(args: string[], extra: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: env(extra), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`${args.join(' ')} exited ${code}: ${err}\n`);
  });
  children.push(child);
  return child;
}

function cli(args: string[], extra: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: env(extra), encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Answer {
  status: number;
  type: string;
  // Every route answers its own shape; each is checked against the OpenAPI document instead.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

/** One API call; the answer is validated against the OpenAPI document. */
async function api(method: string, url: string, opts: { token?: string; body?: unknown; base?: string; raw?: string } = {}): Promise<Answer> {
  const res = await fetch((opts.base ?? base) + url, {
    method,
    headers: {
      ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : opts.raw !== undefined ? { body: opts.raw } : {}),
  });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  const body: unknown = type.includes('json') ? JSON.parse(text) : text;
  if (url.startsWith('/api/')) openapi.check(method, url, res.status, type, body);
  return { status: res.status, type, body, headers: res.headers };
}

async function loggedPauses(): Promise<{ type: string; actor: string | null }[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ type: string; actor: string | null }>("SELECT type, metadata->>'actor' AS actor FROM fv_events WHERE stream_id = $1 AND type IN ('ThreadPaused', 'ThreadResumed', 'WorkerRemoved') ORDER BY stream_version", [`worker-${WORKER}`]);
    return r.rows;
  } finally {
    await c.end();
  }
}

async function threadState(index: number): Promise<string> {
  const r = await api('GET', `/api/v1/workers/${WORKER}`, { token: tokens.read });
  return (r.body.threads as { index: number; threadState: string }[]).find((t) => t.index === index)!.threadState;
}

async function startGateway(name: string, extra: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  start(['gateway', 'run'], { FLEETVISOR_GATEWAY_LISTEN: `127.0.0.1:${port}`, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('gateway', name), ...extra });
  const url = `http://127.0.0.1:${port}`;
  await expectEventually(async () => expect((await fetch(`${url}/health/ready`)).status).toBe(200), { timeoutMs: 60_000 });
  return url;
}

beforeAll(async () => {
  db = await createTestDatabase('gateway');
  nc = await connect({ servers: sharedNatsUrl() });
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() }, { keys: true });
  start(['worker-registry', 'run'], { FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry') });
  start(['worker-agent', 'run'], {
    FLEETVISOR_WORKER_NAME: WORKER,
    FLEETVISOR_WORKER_REPORT_INTERVAL: '300ms',
    FLEETVISOR_WORKER_SIM_THREADS: '4',
    FLEETVISOR_WORKER_SIM_STEP: '60s',
    FLEETVISOR_WORKER_SIM_TEMPORARY_ERROR_RATE: '0',
    FLEETVISOR_WORKER_SIM_PERMANENT_ERROR_RATE: '0',
  });
  base = await startGateway('gateway-a');
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as Record<string, unknown>;
  openapi = new OpenApiResponses(doc);
  for (const role of ['read', 'operate', 'admin'] as const) {
    const r = cli(['token', 'create', '--role', role, '--name', `${role}-1`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    tokens[role] = (JSON.parse(r.stdout) as { token: string }).token;
  }
  const queries = new CommandBus({ nc, subjects, logger });
  await expectEventually(async () => expect((await queries.request(WorkerInfo, { worker: WORKER }, { timeoutMs: 2_000 })).ok).toBe(true), { timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await nc?.close();
  await deleteTestStreams(bus);
  await db?.drop();
});

describe('the document and the service around the API', () => {
  it('/openapi.json is a valid OpenAPI 3.1 document, and /docs serves Swagger UI locally', async () => {
    const { Validator } = (await import('@seriousme/openapi-schema-validator')) as typeof import('@seriousme/openapi-schema-validator');
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as Record<string, unknown>;
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    const page = await fetch(`${base}/docs`);
    expect(await page.text()).toContain('/docs/swagger-ui-bundle.js');
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
  });

  it('health: live and ready (Postgres and NATS checked)', async () => {
    expect((await api('GET', '/health/live')).status).toBe(200);
    const ready = await api('GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.map((c: { name: string }) => c.name).sort()).toEqual(['nats', 'postgres']);
  });

  it('/metrics passes promtool check metrics and counts requests by route and status', async () => {
    await api('GET', '/api/v1/workers', { token: tokens.read });
    await api('GET', '/api/v1/workers');
    const text = await (await fetch(`${base}/metrics`)).text();
    const checked = await promtool(['check', 'metrics'], text);
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);
    expect(text).toMatch(/fleetvisor_gateway_requests_total\{[^}]*route="\/api\/v1\/workers"[^}]*status="200"[^}]*\} [1-9]/);
    expect(text).toMatch(/fleetvisor_gateway_requests_total\{[^}]*route="\/api\/v1\/workers"[^}]*status="401"[^}]*\} [1-9]/);
    expect(text).toContain('fleetvisor_gateway_request_duration_seconds_bucket');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('CORS is off by default: no Access-Control headers for a foreign origin', async () => {
    const res = await fetch(`${base}/api/v1/workers`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${tokens.read}` } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

// Every route, with a sample of valid parameters: what each role gets.
const W = WORKER;
const ROUTES: { method: string; url: string; role: 'read' | 'operate' | 'admin'; body?: unknown }[] = [
  { method: 'GET', url: '/api/v1/workers', role: 'read' },
  { method: 'GET', url: `/api/v1/workers/${W}`, role: 'read' },
  { method: 'GET', url: `/api/v1/workers/${W}/history`, role: 'read' },
  { method: 'GET', url: '/api/v1/sectors/s-t01000-1/history', role: 'read' },
  { method: 'GET', url: '/api/v1/errors', role: 'read' },
  { method: 'GET', url: '/api/v1/hosts', role: 'read' },
  { method: 'GET', url: '/api/v1/services', role: 'read' },
  { method: 'GET', url: '/api/v1/services/provider-1', role: 'read' },
  { method: 'GET', url: '/api/v1/upgrades', role: 'read' },
  { method: 'GET', url: '/api/v1/upgrades/quarantined', role: 'read' },
  { method: 'GET', url: '/api/v1/upgrades/in-progress', role: 'read' },
  { method: 'GET', url: '/api/v1/hosts/h1/services/provider-1/upgrades', role: 'read' },
  { method: 'GET', url: '/api/v1/hosts/h1/services/provider-1/logs', role: 'read' },
  { method: 'POST', url: '/api/v1/hosts/h1/services/provider-1/start', role: 'operate' },
  { method: 'POST', url: '/api/v1/hosts/h1/services/provider-1/stop', role: 'operate' },
  { method: 'POST', url: '/api/v1/hosts/h1/services/provider-1/restart', role: 'operate' },
  { method: 'GET', url: '/api/v1/chains', role: 'read' },
  { method: 'GET', url: '/api/v1/chains/lava-local-1/versions', role: 'read' },
  { method: 'GET', url: '/api/v1/stats/calls', role: 'read' },
  { method: 'GET', url: '/api/v1/stats/top?by=caller', role: 'read' },
  { method: 'GET', url: '/api/v1/stats/anomalies', role: 'read' },
  { method: 'GET', url: '/api/v1/stats/bands?component=venus-messager', role: 'read' },
  { method: 'GET', url: '/api/v1/miners/t01000/proving', role: 'read' },
  { method: 'GET', url: '/api/v1/miners/t01000/deadlines/3/sectors', role: 'read' },
  { method: 'GET', url: '/api/v1/events', role: 'read' },
  { method: 'GET', url: '/api/v1/whoami', role: 'read' },
  { method: 'POST', url: `/api/v1/workers/${W}/threads/3/pause`, role: 'operate' },
  { method: 'POST', url: `/api/v1/workers/${W}/threads/3/resume`, role: 'operate', body: {} },
  { method: 'POST', url: `/api/v1/workers/${W}/drain`, role: 'operate' },
  { method: 'POST', url: '/api/v1/hosts/h1/services/provider-1/upgrades/retry', role: 'operate', body: {} },
  { method: 'POST', url: '/api/v1/hosts/h1/services/provider-1/upgrades/rollback', role: 'admin', body: { version: '1.2.0' } },
  { method: 'DELETE', url: `/api/v1/workers/${W}`, role: 'admin' },
  { method: 'GET', url: '/api/v1/tokens', role: 'admin' },
  { method: 'POST', url: '/api/v1/tokens', role: 'admin', body: { name: 'never-made', role: 'read' } },
  { method: 'DELETE', url: '/api/v1/tokens/read-1', role: 'admin' },
];

describe('auth: every route with each role', () => {
  it('every route of the document is in this table', () => {
    const doc = (openapi as unknown as { doc: { paths: Record<string, Record<string, unknown>> } }).doc;
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api/') && p !== '/api/v1/events/stream')
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const tested = [...new Set(ROUTES.map((r) => `${r.method} ${r.url.split('?')[0]!.replace(`/workers/${W}`, '/workers/{worker}').replace('/threads/3/', '/threads/{index}/').replace('/sectors/s-t01000-1/', '/sectors/{sectorId}/').replace('/hosts/h1/services/provider-1/', '/hosts/{host}/services/{service}/').replace('/services/provider-1', '/services/{service}').replace('/chains/lava-local-1/', '/chains/{chainId}/').replace('/tokens/read-1', '/tokens/{name}').replace('/miners/t01000/', '/miners/{minerId}/').replace('/deadlines/3/', '/deadlines/{deadline}/')}`))].sort();
    expect(tested).toEqual(documented);
  });

  it('401 without a token or with a bad one, 403 with too weak a role, and nothing changes', async () => {
    const before = await loggedPauses();
    const rank = { read: 1, operate: 2, admin: 3 };
    for (const r of ROUTES) {
      const none = await api(r.method, r.url, { ...(r.body !== undefined ? { body: r.body } : {}) });
      expect(none.status, `${r.method} ${r.url}`).toBe(401);
      expect(none.type).toContain('application/problem+json');
      expect(none.headers.get('www-authenticate')).toContain('Bearer');
      const bad = await api(r.method, r.url, { token: `fvt_${'A'.repeat(43)}`, ...(r.body !== undefined ? { body: r.body } : {}) });
      expect(bad.status, `${r.method} ${r.url}`).toBe(401);
      for (const role of ['read', 'operate'] as const) {
        if (rank[role] >= rank[r.role]) continue;
        const weak = await api(r.method, r.url, { token: tokens[role], ...(r.body !== undefined ? { body: r.body } : {}) });
        expect(weak.status, `${r.method} ${r.url} as ${role}`).toBe(403);
        expect(weak.body.detail).toContain(`this needs ${r.role}`);
      }
    }
    // Nothing was paused, resumed or removed; the worker and the read token are still there.
    expect(await loggedPauses()).toEqual(before);
    expect(await threadState(3)).not.toBe('paused');
    expect((await api('GET', `/api/v1/workers/${W}`, { token: tokens.read })).status).toBe(200);
    expect(cli(['token', 'list', '--json']).stdout).not.toContain('never-made');
  });

  it('read routes answer a read token (services not running: 503 problem naming them)', async () => {
    for (const r of ROUTES.filter((x) => x.role === 'read')) {
      const a = await api(r.method, r.url, { token: tokens.read });
      expect([200, 404, 503], `${r.method} ${r.url}: ${JSON.stringify(a.body)}`).toContain(a.status);
    }
    expect((await api('GET', '/api/v1/workers', { token: tokens.read })).body).toMatchObject({ total: 1, workers: [{ name: W }] });
    // Who a token is: what the dashboard shows, and which buttons it offers.
    expect((await api('GET', '/api/v1/whoami', { token: tokens.operate })).body).toEqual({ name: 'operate-1', role: 'operate' });
    expect((await api('GET', '/api/v1/services', { token: tokens.read })).body).toEqual({ hosts: [] });
    const chains = await api('GET', '/api/v1/chains', { token: tokens.read });
    expect(chains.status).toBe(503);
    expect(chains.body).toMatchObject({ status: 503, code: 'unavailable', detail: expect.stringContaining('chain-watcher') });
  });
});

describe('mutating calls are signed for the token holder', () => {
  it('pause and resume as operate: done, and recorded with gateway-a/token:operate-1 as the actor', async () => {
    const paused = await api('POST', `/api/v1/workers/${W}/threads/0/pause`, { token: tokens.operate });
    expect(paused.status).toBe(200);
    expect(paused.body).toEqual({ worker: W, index: 0, changed: true });
    expect(await threadState(0)).toBe('paused');
    const resumed = await api('POST', `/api/v1/workers/${W}/threads/0/resume`, { token: tokens.operate, body: {} });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ worker: W, index: 0, changed: true });
    await expectEventually(async () =>
      expect((await loggedPauses()).slice(-2)).toEqual([
        { type: 'ThreadPaused', actor: 'gateway-a/token:operate-1' },
        { type: 'ThreadResumed', actor: 'gateway-a/token:operate-1' },
      ]),
    );
  });

  it('a service refusal keeps its meaning: 404 for an unknown worker, 400 for an unknown thread index', async () => {
    const unknown = await api('POST', '/api/v1/workers/nobody/threads/0/pause', { token: tokens.operate });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'not_found' });
    const index = await api('POST', `/api/v1/workers/${W}/threads/99/pause`, { token: tokens.operate });
    expect([400, 404]).toContain(index.status);
  });
});

describe('requests are validated: 400 problem naming the field', () => {
  it('query, path and body fields, unknown fields and malformed JSON', async () => {
    const limit = await api('GET', '/api/v1/workers?limit=abc', { token: tokens.read });
    expect(limit.status).toBe(400);
    expect(limit.body).toMatchObject({ status: 400, field: 'query.limit' });
    const extra = await api('GET', '/api/v1/workers?colour=red', { token: tokens.read });
    expect(extra.body).toMatchObject({ status: 400, field: 'query.colour' });
    const index = await api('POST', `/api/v1/workers/${W}/threads/x/pause`, { token: tokens.operate });
    expect(index.body).toMatchObject({ status: 400, field: 'params.index' });
    const state = await api('POST', `/api/v1/workers/${W}/threads/1/resume`, { token: tokens.operate, body: { state: 7 } });
    expect(state.body).toMatchObject({ status: 400, field: 'body.state' });
    const json = await api('POST', `/api/v1/workers/${W}/threads/1/resume`, { token: tokens.operate, raw: '{"state":' });
    expect(json.status).toBe(400);
    expect(json.type).toContain('application/problem+json');
    const unknownRoute = await api('GET', '/api/v1/nothing-here', { token: tokens.read }).catch((e: Error) => e);
    expect(String(unknownRoute)).toContain('not in the OpenAPI document');
    const notFound = await fetch(`${base}/api/v1/nothing-here`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('the event log', () => {
  it('pages with a cursor and filters by stream and type', async () => {
    const first = await api('GET', '/api/v1/events?limit=2&stream=worker-*', { token: tokens.read });
    expect(first.status).toBe(200);
    expect(first.body.events).toHaveLength(2);
    const second = await api('GET', `/api/v1/events?limit=2&stream=worker-*&after=${first.body.next}`, { token: tokens.read });
    expect(second.body.events[0].checkpoint).not.toBe(first.body.events[1].checkpoint);
    const paused = await api('GET', '/api/v1/events?type=ThreadPaused', { token: tokens.read });
    expect(paused.body.events.length).toBeGreaterThan(0);
    expect(paused.body.events.every((e: { type: string }) => e.type === 'ThreadPaused')).toBe(true);
    expect(paused.body.caughtUp).toBe(true);
    const bad = await api('GET', '/api/v1/events?type=not-a-type', { token: tokens.read });
    expect(bad.body).toMatchObject({ status: 400, field: 'query.type' });
  });
});

/** An SSE client: collects events; resolves `opened` once the response headers arrived. */
function sse(url: string, token: string, lastEventId?: string): { events: { id: string; data: { type: string; checkpoint: string; metadata: { actor?: string } } }[]; status: Promise<number>; close(): void } {
  const events: { id: string; data: { type: string; checkpoint: string; metadata: { actor?: string } } }[] = [];
  let resolveStatus: (n: number) => void = () => undefined;
  const status = new Promise<number>((r) => (resolveStatus = r));
  const req = http.get(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } }, (res) => {
    resolveStatus(res.statusCode ?? 0);
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id !== undefined && data !== undefined) events.push({ id, data: JSON.parse(data) });
      }
    });
  });
  req.on('error', () => undefined);
  return { events, status, close: () => req.destroy() };
}

describe('live events over SSE', () => {
  it('delivers live events, and a reconnect with Last-Event-ID resumes after it (missed events first)', async () => {
    const live = sse(`${base}/api/v1/events/stream?stream=worker-${W}`, tokens.read);
    expect(await live.status).toBe(200);
    await api('POST', `/api/v1/workers/${W}/threads/1/pause`, { token: tokens.operate });
    await expectEventually(() => expect(live.events.map((e) => e.data.type)).toContain('ThreadPaused'), { timeoutMs: 10_000 });
    const seen = live.events.find((e) => e.data.type === 'ThreadPaused')!;
    expect(seen.data.metadata.actor).toBe('gateway-a/token:operate-1');
    expect(seen.id).toBe(seen.data.checkpoint);
    live.close();
    // While nobody listens: a resume. The reconnecting client gets it, and nothing before `seen`.
    await api('POST', `/api/v1/workers/${W}/threads/1/resume`, { token: tokens.operate, body: {} });
    const again = sse(`${base}/api/v1/events/stream?stream=worker-${W}`, tokens.read, seen.id);
    expect(await again.status).toBe(200);
    await expectEventually(() => expect(again.events.map((e) => e.data.type)).toContain('ThreadResumed'), { timeoutMs: 10_000 });
    expect(again.events.map((e) => e.id)).not.toContain(seen.id);
    // and it stays live after the catch-up
    await api('POST', `/api/v1/workers/${W}/threads/2/pause`, { token: tokens.operate });
    await expectEventually(() => expect(again.events.filter((e) => e.data.type === 'ThreadPaused').length).toBeGreaterThan(0), { timeoutMs: 10_000 });
    const ids = again.events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    again.close();
  });

  it('refuses the stream without a token and a malformed Last-Event-ID', async () => {
    expect((await api('GET', '/api/v1/events/stream')).status).toBe(401);
    const res = await fetch(`${base}/api/v1/events/stream`, { headers: { authorization: `Bearer ${tokens.read}`, 'last-event-id': 'yesterday' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'header.last-event-id' });
  });
});

describe('two gateways side by side, rate limit, revocation', () => {
  it('a second gateway answers the same tokens; its rate limit is per token', async () => {
    const dashboard = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-dashboard-'));
    fs.writeFileSync(path.join(dashboard, 'index.html'), '<!doctype html><title>dash</title><p>fleet dashboard</p>');
    fs.mkdirSync(path.join(dashboard, 'assets'));
    fs.writeFileSync(path.join(dashboard, 'assets', 'app.js'), 'console.log(1)');
    baseB = await startGateway('gateway-b', { FLEETVISOR_GATEWAY_RATE_LIMIT: '5', FLEETVISOR_GATEWAY_RATE_WINDOW: '1m', FLEETVISOR_GATEWAY_DASHBOARD_DIR: dashboard });
    // the dashboard directory given is served at / (gateway-a serves the one `npm run build` made)
    expect(await (await fetch(`${baseB}/`)).text()).toContain('fleet dashboard');
    expect((await fetch(`${baseB}/assets/app.js`)).status).toBe(200);
    expect(await (await fetch(`${base}/`)).text()).toContain('<div id="root"></div>');
    const unknown = await fetch(`${baseB}/api/v1/nothing`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    for (let i = 0; i < 5; i++) expect((await api('GET', '/api/v1/hosts', { token: tokens.read, base: baseB })).status).toBe(200);
    const limited = await api('GET', '/api/v1/hosts', { token: tokens.read, base: baseB });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ status: 429 });
    // another token has its own budget
    expect((await api('GET', '/api/v1/hosts', { token: tokens.operate, base: baseB })).status).toBe(200);
    // and its mutating calls carry its own key name
    expect((await api('POST', `/api/v1/workers/${W}/threads/2/resume`, { token: tokens.operate, base: baseB, body: {} })).status).toBe(200);
    await expectEventually(async () => expect((await loggedPauses()).at(-1)).toEqual({ type: 'ThreadResumed', actor: 'gateway-b/token:operate-1' }));
  });

  it('a revoked token is refused by every gateway without a restart', async () => {
    const r = cli(['token', 'create', '--role', 'read', '--name', 'short-lived']);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect((await api('GET', '/api/v1/hosts', { token })).status).toBe(200);
    expect(cli(['token', 'revoke', 'short-lived']).code).toBe(0);
    await expectEventually(async () => expect((await api('GET', '/api/v1/hosts', { token })).status).toBe(401), { timeoutMs: 5_000 });
    await expectEventually(async () => expect((await api('GET', '/api/v1/hosts', { token, base: baseB })).status).toBe(401), { timeoutMs: 5_000 });
    expect(cli(['token', 'list']).stdout).toMatch(/short-lived\s+read\s+\S+\s+\S+\s+\d{4}-/);
  });

  it('admin token routes: create shows the token once, list never shows it, revoke', async () => {
    const made = await api('POST', '/api/v1/tokens', { token: tokens.admin, body: { name: 'via-api', role: 'operate' } });
    expect(made.status).toBe(200);
    expect(made.body.token).toMatch(/^fvt_/);
    const list = await api('GET', '/api/v1/tokens', { token: tokens.admin });
    expect(JSON.stringify(list.body)).not.toContain(made.body.token);
    expect(list.body.tokens.find((t: { name: string }) => t.name === 'via-api')).toMatchObject({ role: 'operate', createdBy: 'gateway-a/token:admin-1' });
    expect((await api('POST', '/api/v1/tokens', { token: tokens.admin, body: { name: 'via-api', role: 'read' } })).status).toBe(409);
    expect((await api('DELETE', '/api/v1/tokens/via-api', { token: tokens.admin })).status).toBe(200);
    await expectEventually(async () => expect((await api('GET', '/api/v1/hosts', { token: made.body.token })).status).toBe(401), { timeoutMs: 5_000 });
  });
});

describe('the CLI against a remote fleet (--url)', () => {
  // The agent reports every 300 ms: the last ping moves between the two asks, nothing else does.
  const ago = (text: string) => text.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S* \([^)]*\)/g, '<ping>');
  const pingless = (text: string) => (JSON.parse(text) as { workers: Record<string, unknown>[] }).workers.map(({ lastPing: _l, ...w }) => w);

  it('worker list and info print the same through the gateway as over the bus', async () => {
    const bus = cli(['worker', 'list', '--json']);
    const remote = cli(['worker', 'list', '--json', '--url', base, '--token', tokens.read]);
    expect(remote.code, remote.stderr).toBe(0);
    expect(pingless(remote.stdout)).toEqual(pingless(bus.stdout));
    expect(ago(cli(['worker', 'list', '--url', base, '--token', tokens.read]).stdout)).toBe(ago(cli(['worker', 'list']).stdout));
    const info = cli(['worker', 'info', W, '--json', '--url', base], { FLEETVISOR_TOKEN: tokens.read });
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout).worker.name).toBe(W);
  });

  it('worker pause and resume through the gateway: done as the token holder; a read token is refused', async () => {
    const refused = cli(['worker', 'pause', W, '2', '--url', base, '--token', tokens.read]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('this needs operate');
    const paused = cli(['worker', 'pause', W, '2', '--url', base, '--token', tokens.operate]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toMatch(new RegExp(`${W} thread #2 (paused|was already paused)`));
    const resumed = cli(['worker', 'resume', W, '2', '--url', base, '--token', tokens.operate]);
    expect(resumed.stdout).toMatch(new RegExp(`${W} thread #2 resumed in`));
    await expectEventually(async () => expect((await loggedPauses()).at(-1)).toEqual({ type: 'ThreadResumed', actor: 'gateway-a/token:operate-1' }));
    const drain = cli(['worker', 'drain', W, '--url', base, '--token', tokens.read]);
    expect(drain.code).toBe(1);
  });

  it('services list and status (the service-runner\'s command line) through the gateway', () => {
    const bus = cli(['services', 'list', '--fleet', '--json']);
    const remote = cli(['services', 'list', '--json', '--url', base, '--token', tokens.read]);
    expect(remote.code, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toEqual(JSON.parse(bus.stdout));
    const status = cli(['services', 'status', 'provider-1', '--url', base, '--token', tokens.read]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('not_found');
    const noToken = cli(['services', 'list', '--url', base], { HOME: os.tmpdir(), XDG_CONFIG_HOME: '' });
    expect(noToken.stderr).toContain('needs a token');
  });

  it('chain status and stats: the same refusal as over the bus when the service is not running', () => {
    const chain = cli(['chain', 'status', '--url', base, '--token', tokens.read]);
    expect(chain.code).toBe(1);
    expect(chain.stderr).toContain('unavailable');
    const stats = cli(['stats', 'top', '--url', base, '--token', tokens.read]);
    expect(stats.code).toBe(1);
    expect(stats.stderr).toContain('stats-collector');
  });

  it('the token from ~/.config/fleetvisor/gateway.json, only when no one else can read it', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-home-'));
    try {
      const file = path.join(home, '.config', 'fleetvisor', 'gateway.json');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ token: tokens.read }), { mode: 0o644 });
      fs.chmodSync(file, 0o644);
      const open = cli(['worker', 'list', '--url', base], { HOME: home, XDG_CONFIG_HOME: '' });
      expect(open.code).toBe(2);
      expect(open.stderr).toContain('chmod 600');
      fs.chmodSync(file, 0o600);
      const ok = cli(['worker', 'list', '--json', '--url', base], { HOME: home, XDG_CONFIG_HOME: '' });
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout).workers[0].name).toBe(W);
      const none = cli(['worker', 'list', '--url', base], { HOME: path.join(home, 'nowhere'), XDG_CONFIG_HOME: '' });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('needs a token');
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
