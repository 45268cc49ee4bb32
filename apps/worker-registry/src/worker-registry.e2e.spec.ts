// The registry as an operator runs it: a real `fleetvisor worker-registry run` process, real
// `worker-agent run` processes in simulated mode, and the `fleetvisor worker …` CLI, on real
// Postgres and NATS.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentDrain, AgentThreadList, createSubjects, WorkerInfo, type ThreadInfo, type WorkerSummary } from '@fleetvisor/contracts';
import { SimulatedWorker, startVenusWorkerRpcServer } from '@fleetvisor/devnet';
import { CommandBus } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, fleetvisorEnv, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');

const bus = testBusNames();
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let nc: NatsConnection;
let commands: CommandBus;
const children = new Set<ChildProcess>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnTracked(args: string[], extra: Record<string, string> = {}): ChildProcess & { errTail: () => string; output: () => string } {
  const child = spawn(process.execPath, args, { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { errTail: () => string; output: () => string };
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-3000)));
  child.errTail = () => err;
  child.output = () => out + err;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function cli(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function cliJson<T>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`fleetvisor ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

// The compiled `fleetvisor worker-registry run`: the started pid is the registry itself, so SIGKILL
// hits the registry, as a crash would.
const startRegistry = (extra: Record<string, string> = {}) =>
  spawnTracked([BIN, 'worker-registry', 'run'], { FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry'), ...extra });

function startAgent(name: string, extra: Record<string, string> = {}): ChildProcess {
  return spawnTracked([BIN, 'worker-agent', 'run'], {
    FLEETVISOR_WORKER_NAME: name,
    FLEETVISOR_WORKER_DEST: `127.0.0.1:${name === 'e2e-w1' ? 17891 : 17892}`,
    FLEETVISOR_WORKER_REPORT_INTERVAL: '300ms',
    // Below the registry's 3 s expiration: a report lost with a SIGKILLed registry must not keep
    // the agent silent past it (production: 5 s against 10 min).
    FLEETVISOR_WORKER_REPORT_TIMEOUT: '1s',
    FLEETVISOR_WORKER_SIM_THREADS: '4',
    FLEETVISOR_WORKER_SIM_STEP: '150ms',
    FLEETVISOR_WORKER_SIM_TEMPORARY_ERROR_RATE: '0',
    FLEETVISOR_WORKER_SIM_PERMANENT_ERROR_RATE: '0',
    ...extra,
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

async function streamEvents(worker: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    const r = await c.query<{ type: string; data: Record<string, unknown> }>('SELECT type, data FROM fv_events WHERE stream_id = $1 ORDER BY stream_version', [`worker-${worker}`]);
    return r.rows;
  } finally {
    await c.end();
  }
}

async function agentTruth(name: string): Promise<ThreadInfo[]> {
  const reply = await commands.request(AgentThreadList, {}, { instance: name, timeoutMs: 5_000 });
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.result!.threads;
}

const recorded = (threads: readonly ThreadInfo[]) => threads.map((t) => ({ index: t.index, plan: t.plan, state: t.state, sectorId: t.sectorId, paused: t.threadState === 'paused' }));

let registry: ChildProcess;
let agent2: ChildProcess;

beforeAll(async () => {
  db = await createTestDatabase('wrege2e');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  env = fleetvisorEnv(
    { databaseUrl: db.url, bus },
    {
      FLEETVISOR_HOST: 'e2e-host',
      FLEETVISOR_LOG_LEVEL: 'warn',
      // The CLI signs as operator e2e-op (the actor of what it does); the registry passes commands on with its service key.
      FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('operate', 'e2e-op'),
      FLEETVISOR_WORKER_EXPIRATION: '3s',
      FLEETVISOR_WORKER_EXPIRY_CHECK_INTERVAL: '200ms',
      FLEETVISOR_WORKER_LAST_SEEN_FLUSH_INTERVAL: '200ms',
    },
  );
  nc = await connect({ servers: sharedNatsUrl() });
  // Signs as the operator e2e-op: the agent carries out only signed commands.
  commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger: createLogger({ name: 'e2e', level: 'silent', format: 'json' }), signer: testTrust().signer('operate', 'e2e-op') });
  registry = startRegistry();
  startAgent('e2e-w1');
  agent2 = startAgent('e2e-w2');
  await expectEventually(
    async () => {
      const { workers } = await cliJson<{ workers: WorkerSummary[] }>(['worker', 'list']);
      expect(workers.map((w) => [w.name, w.threads])).toEqual([
        ['e2e-w1', 4],
        ['e2e-w2', 4],
      ]);
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}, 120_000);

afterAll(async () => {
  for (const c of [...children]) await stop(c);
  if (nc) {
    const jsm = await nc.jetstreamManager();
    for (const s of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  }
  await db?.drop();
});

describe('worker registry with real agent processes', () => {
  it('pause through the CLI reaches the agent; info then matches the agent exactly', async () => {
    for (const i of [0, 1, 2, 3]) {
      const r = await cli(['worker', 'pause', 'e2e-w1', String(i)]);
      expect(r.code, r.stderr).toBe(0);
    }
    const truth = await agentTruth('e2e-w1');
    expect(truth.every((t) => t.threadState === 'paused')).toBe(true);
    // Reports after the pauses carry the last transitions; then the registry shows the agent's truth.
    await expectEventually(async () => {
      const info = await cliJson<{ threads: ThreadInfo[] }>(['worker', 'info', 'e2e-w1']);
      expect(recorded(info.threads)).toEqual(recorded(await agentTruth('e2e-w1')));
    });
    const events = await streamEvents('e2e-w1');
    expect(events.filter((e) => e.type === 'ThreadPaused' && e.data['reason'] === 'manual' && e.data['actor'] === 'e2e-op')).toHaveLength(4);
    const human = await cli(['worker', 'info', '127.0.0.1:17891']);
    expect(human.stdout).toMatch(/Index\s+Loc\s+SectorID\s+Plan\s+Paused\s+PausedElapsed\s+State\s+Stage\s+LastErr/);
  });

  it('resume to a state outside the plan is refused, listing the valid ones, and nothing changes', async () => {
    const before = (await streamEvents('e2e-w1')).length;
    const truthBefore = recorded(await agentTruth('e2e-w1'));
    const r = await cli(['worker', 'resume', 'e2e-w1', '0', 'NotAState']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/state "NotAState" is not a state of plan \w+ \(thread #0 of e2e-w1\); valid states: Empty, Allocated/);
    expect(recorded(await agentTruth('e2e-w1'))).toEqual(truthBefore);
    expect((await streamEvents('e2e-w1')).length).toBe(before);
    const unknown = await cli(['worker', 'pause', 'e2e-w9', '0']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown worker "e2e-w9" (by name or address); workers: e2e-w1, e2e-w2');
  });

  it('resume through the CLI is recorded with its actor and the thread runs again', async () => {
    const r = await cli(['worker', 'resume', 'e2e-w1', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/e2e-w1 thread #1 resumed in \w+/);
    expect((await agentTruth('e2e-w1'))[1]!.threadState).not.toBe('paused');
    const events = await streamEvents('e2e-w1');
    expect(events.some((e) => e.type === 'ThreadResumed' && e.data['index'] === 1 && e.data['actor'] === 'e2e-op')).toBe(true);
    const history = await cliJson<{ entries: { type: string; index?: number }[] }>(['worker', 'history', 'e2e-w1', '--index', '1']);
    expect(history.entries.map((e) => e.type)).toEqual(expect.arrayContaining(['ThreadStateChanged', 'ThreadPaused', 'ThreadResumed']));
    expect(history.entries.every((e) => e.index === 1)).toBe(true);
  });

  it('drain --wait shows progress until every thread is paused, recorded start to finish', async () => {
    const r = await cli(['worker', 'drain', 'e2e-w2', '--wait', '--interval', '200ms', '--timeout', '60s']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('e2e-w2: 4/4 threads paused, drained');
    expect((await agentTruth('e2e-w2')).every((t) => t.threadState === 'paused')).toBe(true);
    const types = (await streamEvents('e2e-w2')).map((e) => e.type);
    expect(types.indexOf('WorkerDrainStarted')).toBeGreaterThan(0);
    expect(types.indexOf('WorkerDrainFinished')).toBeGreaterThan(types.indexOf('WorkerDrainStarted'));
  });

  it('`fleetvisor events rebuild worker-registry` rebuilds the projection through the registry app, with progress', async () => {
    const sql = async (text: string, values: unknown[] = []) => {
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        return (await c.query<Record<string, unknown>>(text, values)).rows;
      } finally {
        await c.end();
      }
    };
    // A projection row gone wrong (e2e-w2 is drained: nothing the live registry writes touches dest).
    await sql("UPDATE fv_proj_workers SET dest = 'corrupt:1' WHERE name = 'e2e-w2'");
    const r = await cli(['events', 'rebuild', 'worker-registry', '--json', '--batch-size', '500']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { projection: string; processed: number };
    expect(result.projection).toBe('worker-registry');
    expect(result.processed).toBeGreaterThan(20);
    expect(r.stderr).toMatch(/"progress":\{"processed":\d+/);
    expect(await sql("SELECT dest FROM fv_proj_workers WHERE name = 'e2e-w2'")).toEqual([{ dest: '127.0.0.1:17892' }]);
    const bad = await cli(['events', 'rebuild', 'worker-registry', '--batch-size', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--batch-size must be an integer from 1 to 100000/);
  });

  it('killed with SIGKILL and restarted, the registry shows the same workers and threads', async () => {
    const before = await cliJson<{ threads: ThreadInfo[] }>(['worker', 'info', 'e2e-w2']);
    await stop(registry, 'SIGKILL');
    // Back with the report screen thread on: the compiled thread entry loads beside the compiled registry.
    const restarted = startRegistry({ FLEETVISOR_WORKER_REGISTRY_SCREEN_THREAD: 'true', FLEETVISOR_LOG_LEVEL: 'info' });
    registry = restarted;
    await expectEventually(() => expect(restarted.output()).toMatch(/report screen thread started/), { timeoutMs: 60_000 });
    expect(restarted.output()).not.toMatch(/screen thread did not start/);
    await expectEventually(async () => {
      const after = await cliJson<{ threads: ThreadInfo[] }>(['worker', 'info', 'e2e-w2']);
      // w2 is drained: nothing moves, so the state must be exactly what it was.
      expect(recorded(after.threads)).toEqual(recorded(before.threads));
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const { workers } = await cliJson<{ workers: WorkerSummary[] }>(['worker', 'list']);
    expect(workers.map((w) => w.name)).toEqual(['e2e-w1', 'e2e-w2']);
  });

  it('a silent worker expires (LastPing with !) and its next report brings it back', async () => {
    // Only this test's silence counts (a registry restart under load may have expired it before).
    const earlier = (await streamEvents('e2e-w2')).length;
    await stop(agent2);
    await expectEventually(async () => {
      const { workers } = await cliJson<{ workers: WorkerSummary[] }>(['worker', 'list']);
      expect(workers.find((w) => w.name === 'e2e-w2')!.expired).toBe(true);
    }, { timeoutMs: 30_000, intervalMs: 300 });
    const table = await cli(['worker', 'list', '--expiration', '3s']);
    expect(table.stdout).toMatch(/e2e-w2 .* !\n/);
    const w2 = (await streamEvents('e2e-w2')).slice(earlier);
    expect(w2.filter((e) => e.type === 'WorkerExpired'), JSON.stringify(w2.slice(-12).map((e) => [e.type, e.data['index'] ?? e.data['lastSeen'] ?? '']))).toHaveLength(1);
    agent2 = startAgent('e2e-w2');
    await expectEventually(async () => {
      expect((await streamEvents('e2e-w2')).at(-1)?.type).toBeDefined();
      expect((await streamEvents('e2e-w2')).some((e) => e.type === 'WorkerReturned')).toBe(true);
    }, { timeoutMs: 60_000, intervalMs: 300 });
    const { workers } = await cliJson<{ workers: WorkerSummary[] }>(['worker', 'list']);
    expect(workers.find((w) => w.name === 'e2e-w2')!.expired).toBe(false);
  });
});

/** One VenusWorker JSON-RPC call, as damocles-worker's own CLI makes it (a change made on the worker, not through Fleetvisor). */
async function venusWorkerCall(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

async function workerInfo(name: string): Promise<{ worker: WorkerSummary; threads: ThreadInfo[] }> {
  const reply = await commands.request(WorkerInfo, { worker: name }, { timeoutMs: 5_000 });
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result!;
}

describe('worker registry with an agent in bridge mode (VenusWorker JSON-RPC)', () => {
  it('a change made on the worker reaches worker info at once, long before the next heartbeat', async () => {
    // Steps of a minute: nothing moves on its own during the test, only the pause made below.
    const sim = new SimulatedWorker({ threads: 2, stepMs: 60_000, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer'], seed: 21 });
    sim.start(20);
    const rpc = await startVenusWorkerRpcServer({ worker: sim });
    try {
      const agent = startAgent('e2e-bridge-now', {
        FLEETVISOR_WORKER_SOURCE: 'bridge',
        FLEETVISOR_WORKER_ADMIN_URL: rpc.url,
        FLEETVISOR_WORKER_DEST: rpc.dest,
        FLEETVISOR_WORKER_BRIDGE_POLL: '200ms',
        FLEETVISOR_WORKER_REPORT_INTERVAL: '60s',
      });
      // The agent's first report (sent once it serves its commands) registers the worker.
      await expectEventually(async () => expect((await workerInfo('e2e-bridge-now')).threads.map((t) => t.threadState)).not.toContain('paused'), {
        timeoutMs: 60_000,
        intervalMs: 300,
      });
      const pausedAt = Date.now();
      expect(await venusWorkerCall(rpc.url, 'VenusWorker.WorkerPause', [1])).toBe(true);
      // The next heartbeat is a minute away: only a report made on the change can show it in time.
      await expectEventually(async () => expect((await workerInfo('e2e-bridge-now')).threads[1]).toMatchObject({ threadState: 'paused' }), {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
      expect(Date.now() - pausedAt).toBeLessThan(10_000);
      const paused = (await streamEvents('e2e-bridge-now')).filter((e) => e.type === 'ThreadPaused');
      expect(paused.map((e) => [e.data['index'], e.data['reason']])).toEqual([[1, 'manual']]);
      await stop(agent);
    } finally {
      sim.stop();
      await rpc.close();
    }
  });

  it('a worker endpoint that stops answering shows as unreachable (not as a dead agent), its threads not running; then reachable again', async () => {
    const sim = new SimulatedWorker({ threads: 2, stepMs: 60_000, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer'], seed: 22 });
    sim.start(20);
    let rpc = await startVenusWorkerRpcServer({ worker: sim });
    const port = rpc.port;
    try {
      const agent = startAgent('e2e-bridge-down', {
        FLEETVISOR_WORKER_SOURCE: 'bridge',
        FLEETVISOR_WORKER_ADMIN_URL: rpc.url,
        FLEETVISOR_WORKER_DEST: rpc.dest,
        FLEETVISOR_WORKER_BRIDGE_POLL: '200ms',
        FLEETVISOR_WORKER_REPORT_INTERVAL: '300ms',
      });
      await expectEventually(async () => expect((await workerInfo('e2e-bridge-down')).threads).toHaveLength(2), { timeoutMs: 60_000, intervalMs: 300 });
      await rpc.close();
      await expectEventually(async () => {
        const info = await workerInfo('e2e-bridge-down');
        expect(info.worker).toMatchObject({ expired: false, running: 0, unreachable: expect.stringMatching(/unreachable: connection refused \(ECONNREFUSED\)/) });
        expect(info.threads.map((t) => t.threadState)).toEqual(['unknown', 'unknown']);
      }, { timeoutMs: 15_000, intervalMs: 200 });
      const { workers } = await cliJson<{ workers: WorkerSummary[] }>(['worker', 'list']);
      expect(workers.find((w) => w.name === 'e2e-bridge-down')).toMatchObject({ expired: false, threads: 2, unreachable: expect.any(String) });
      // The human tables say so where a person looks first.
      expect((await cli(['worker', 'list'])).stdout).toMatch(/^e2e-bridge-down UNREACHABLE\s/m);
      expect((await cli(['worker', 'info', 'e2e-bridge-down'])).stdout.split('\n')[1]).toMatch(/^UNREACHABLE: the agent reports, the worker does not answer it: .*ECONNREFUSED/);
      // The agent goes on reporting meanwhile: the worker does not expire (3 s here) and the event is recorded once.
      const lastPing = Date.parse((await workerInfo('e2e-bridge-down')).worker.lastPing);
      await expectEventually(async () => expect(Date.parse((await workerInfo('e2e-bridge-down')).worker.lastPing)).toBeGreaterThan(lastPing + 1_000), { timeoutMs: 10_000 });
      rpc = await startVenusWorkerRpcServer({ worker: sim, port });
      await expectEventually(async () => {
        const info = await workerInfo('e2e-bridge-down');
        expect(info.worker.unreachable).toBeUndefined();
        expect(info.threads.map((t) => t.threadState)).toEqual(sim.list().map((t) => t.thread_state.state.toLowerCase()));
      }, { timeoutMs: 15_000, intervalMs: 200 });
      const types = (await streamEvents('e2e-bridge-down')).map((e) => e.type).filter((t) => t.startsWith('Worker'));
      expect(types).toEqual(['WorkerRegistered', 'WorkerUnreachable', 'WorkerReachable']);
      await stop(agent);
    } finally {
      sim.stop();
      await rpc.close();
    }
  });

  it('threads of damocles plans Fleetvisor has no state list for are reported with their states as the worker gives them', async () => {
    // A damocles-worker admin endpoint with a niporep and a supra thread beside a sealer one.
    const threads = [
      { location: '/data/s0', plan: 'sealer', job_id: 's-t01000-1', index: 0, thread_state: { state: 'Running', elapsed: 3 }, job_state: 'PC1Done', job_stage: 'PC1', last_error: null },
      { location: '/data/s1', plan: 'niporep', job_id: 's-t01000-2', index: 1, thread_state: { state: 'Running', elapsed: 5 }, job_state: 'Allocated', job_stage: null, last_error: null },
      { location: '/data/s2', plan: 'supra', job_id: null, index: 2, thread_state: { state: 'Idle' }, job_state: '', job_stage: null, last_error: null },
    ];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const { id, method } = JSON.parse(body) as { id: number; method: string };
        const result = method === 'VenusWorker.WorkerList' ? threads : method === 'VenusWorker.WorkerVersion' ? 'v0.12.0' : null;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dest = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const agent = startAgent('e2e-bridge-plans', { FLEETVISOR_WORKER_SOURCE: 'bridge', FLEETVISOR_WORKER_ADMIN_URL: `http://${dest}/`, FLEETVISOR_WORKER_DEST: dest, FLEETVISOR_WORKER_BRIDGE_POLL: '100ms' });
      await expectEventually(async () => {
        const info = await workerInfo('e2e-bridge-plans');
        expect(info.threads.map((t) => [t.index, t.plan, t.state, t.threadState])).toEqual([
          [0, 'sealer', 'PC1Done', 'running'],
          [1, 'niporep', 'Allocated', 'running'],
          [2, 'supra', 'Empty', 'idle'],
        ]);
      }, { timeoutMs: 60_000, intervalMs: 300 });
      threads[1]!.job_state = 'PC1Done';
      await expectEventually(async () => expect((await workerInfo('e2e-bridge-plans')).threads[1]!.state).toBe('PC1Done'), { timeoutMs: 10_000, intervalMs: 200 });
      const changes = (await streamEvents('e2e-bridge-plans')).filter((e) => e.type === 'ThreadStateChanged' && e.data['index'] === 1);
      expect(changes.map((e) => [e.data['plan'], e.data['prev'], e.data['next']])).toEqual([
        ['niporep', 'Empty', 'Allocated'],
        ['niporep', 'Allocated', 'PC1Done'],
      ]);
      // A state cannot be checked for such a plan: a resume to one is refused, naming why.
      const r = await cli(['worker', 'resume', 'e2e-bridge-plans', '1', 'PC2Done']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the states of plan niporep are not known to Fleetvisor');
      await stop(agent);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a pause the agent made itself is recorded with the reason it knows (drain asked of the agent directly)', async () => {
    const sim = new SimulatedWorker({ threads: 2, stepMs: 60_000, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer'], seed: 23 });
    sim.start(20);
    const rpc = await startVenusWorkerRpcServer({ worker: sim });
    try {
      const agent = startAgent('e2e-bridge-why', { FLEETVISOR_WORKER_SOURCE: 'bridge', FLEETVISOR_WORKER_ADMIN_URL: rpc.url, FLEETVISOR_WORKER_DEST: rpc.dest, FLEETVISOR_WORKER_BRIDGE_POLL: '100ms' });
      await expectEventually(async () => expect((await workerInfo('e2e-bridge-why')).threads).toHaveLength(2), { timeoutMs: 60_000, intervalMs: 300 });
      // `fleetvisor worker-agent drain` on the worker's host: the registry did not ask for it.
      const drained = await commands.request(AgentDrain, {}, { instance: 'e2e-bridge-why', timeoutMs: 5_000 });
      expect(drained).toMatchObject({ ok: true, result: { threads: 2, paused: 2 } });
      await expectEventually(async () => {
        const paused = (await streamEvents('e2e-bridge-why')).filter((e) => e.type === 'ThreadPaused');
        expect(paused.map((e) => [e.data['index'], e.data['reason']]).sort()).toEqual([
          [0, 'drain'],
          [1, 'drain'],
        ]);
      }, { timeoutMs: 10_000, intervalMs: 200 });
      expect((await workerInfo('e2e-bridge-why')).threads.map((t) => [t.threadState, t.pauseReason])).toEqual([
        ['paused', 'drain'],
        ['paused', 'drain'],
      ]);
      await stop(agent);
    } finally {
      sim.stop();
      await rpc.close();
    }
  });

  it('lists the bridged worker, and pause/resume reach the worker through the agent', async () => {
    const sim = new SimulatedWorker({ threads: 3, stepMs: 150, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer'], seed: 7 });
    sim.start(20);
    const rpc = await startVenusWorkerRpcServer({ worker: sim });
    try {
      const agent = startAgent('e2e-bridge', {
        FLEETVISOR_WORKER_SOURCE: 'bridge',
        FLEETVISOR_WORKER_ADMIN_URL: rpc.url,
        FLEETVISOR_WORKER_DEST: rpc.dest,
        FLEETVISOR_WORKER_BRIDGE_POLL: '100ms',
      });
      await expectEventually(
        async () => {
          const { workers } = await cliJson<{ workers: WorkerSummary[] }>(['worker', 'list']);
          expect(workers.find((w) => w.name === 'e2e-bridge')).toMatchObject({ dest: rpc.dest, threads: 3 });
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // Named by its address, as damocles' manager names workers.
      const p = await cli(['worker', 'pause', rpc.dest, '0']);
      expect(p.code, p.stderr).toBe(0);
      expect(sim.list()[0]!.thread_state.state).toBe('Paused');
      await expectEventually(async () => {
        const info = await cliJson<{ threads: ThreadInfo[] }>(['worker', 'info', 'e2e-bridge']);
        expect(info.threads[0]).toMatchObject({ threadState: 'paused', state: sim.list()[0]!.job_state });
      });
      const bad = await cli(['worker', 'resume', 'e2e-bridge', '0', 'Unsealed']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('state "Unsealed" is not a state of plan sealer');
      expect(sim.list()[0]!.thread_state.state).toBe('Paused');
      const r = await cli(['worker', 'resume', 'e2e-bridge', '0', 'Allocated']);
      expect(r.code, r.stderr).toBe(0);
      expect(sim.list()[0]!.thread_state.state).not.toBe('Paused');
      const events = await streamEvents('e2e-bridge');
      expect(events.some((e) => e.type === 'ThreadPaused' && e.data['actor'] === 'e2e-op')).toBe(true);
      expect(events.some((e) => e.type === 'ThreadResumed' && e.data['state'] === 'Allocated')).toBe(true);
      await stop(agent);
    } finally {
      sim.stop();
      await rpc.close();
    }
  });
});
