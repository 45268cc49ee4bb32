// Gateway benchmark: `npm run bench:gateway [-- --quick]`.
//
// The worker-registry, stats-collector and gateway run as real processes (compiled, as they ship);
// 5,000 simulated workers (16 threads each) register with the registry over NATS from this
// process, then stop reporting. From this process, on loopback:
//   1. GET /api/v1/workers (first page, 100 workers) with C keep-alive connections for D seconds:
//      requests per second and latency percentiles (target: >= 2,000 req/s, p99 <= 50 ms);
//   2. GET /api/v1/stats/calls (one caller, last 24 h, by method) the same way;
//   3. SSE fan-out: 100 clients on /api/v1/events/stream while this process appends 1,000 events/s
//      to the log (10 every 10 ms); latency from just before the append to each client's receipt
//      (target: p99 <= 100 ms).
// Output: progress and a table on stderr; ONE JSON object as the last line of stdout with
// workersReqPerSec, workersP99Ms, sseP99Ms (and the rest).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { createSubjects, HostOnline, newEvent, WorkerListPage, WorkerReportCommand } from '@fleetvisor/contracts';
import { openEventStore } from '@fleetvisor/event-store';
import { CommandBus } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createLogger, freePort } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, fleetvisorEnv, sharedNatsUrl, testBusNames, testTrust } from '@fleetvisor/testing';
import { FLEETVISOR_BIN, fleetvisorProcess } from './lib/compiled-app';
import { emitResult, progress } from './lib/log';
import { summarize, type LatencySummary } from './lib/percentiles';
import { natsReportSender, SealingLoad } from './lib/sealing-load';
import { textTable } from './lib/table';

interface Options {
  quick: boolean;
  workers: number;
  connections: number;
  seconds: number;
  sseClients: number;
  sseRate: number;
  sseSeconds: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const o: Options = { quick, workers: 5_000, connections: 16, seconds: quick ? 6 : 20, sseClients: 100, sseRate: 1_000, sseSeconds: quick ? 6 : 20 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') continue;
    if (a === '--gateway-cpu-prof') {
      i++;
      continue;
    }
    const n = Number(argv[++i]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer (options: --quick --workers N --connections N --seconds N --sse-clients N --sse-rate N --sse-seconds N)`);
    if (a === '--workers') o.workers = n;
    else if (a === '--connections') o.connections = n;
    else if (a === '--seconds') o.seconds = n;
    else if (a === '--sse-clients') o.sseClients = n;
    else if (a === '--sse-rate') o.sseRate = n;
    else if (a === '--sse-seconds') o.sseSeconds = n;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const children: ChildProcess[] = [];

function startApp(args: string[], env: NodeJS.ProcessEnv, nodeFlags: string[] = []): ChildProcess {
  const app = fleetvisorProcess(args, nodeFlags);
  const child = spawn(app.file, app.argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) progress(`${args.join(' ')} exited ${code}: ${err}`);
  });
  children.push(child);
  return child;
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** C keep-alive connections asking `path` back to back for `seconds`; each latency is kept. */
async function hammer(port: number, path: string, token: string, connections: number, seconds: number): Promise<{ reqPerSec: number; latency: LatencySummary; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          if (res.statusCode === 200) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { reqPerSec: Math.round(latencies.length / elapsed), latency: summarize(latencies), errors };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const t0 = Date.now();
  const db = await createTestDatabase('benchgw');
  const bus = testBusNames();
  const nc = await connect({ servers: sharedNatsUrl() });
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() }, { keys: true });
  const env = (extra: Record<string, string>) => fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'bench-gw', FLEETVISOR_LOG_LEVEL: 'warn', ...extra });
  try {
    progress('starting worker-registry and stats-collector');
    startApp(['worker-registry', 'run', '--no-relay'], env({ FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry') }), ['--max-semi-space-size=32']);
    startApp(['stats-collector', 'run', '--no-relay'], env({ FLEETVISOR_STATS_ANOMALY_INTERVAL: '0' }));
    const subjects = createSubjects(bus.subjectRoot);
    const cmd = new CommandBus({ nc, subjects, logger: createLogger({ name: 'bench', level: 'silent', format: 'json', stream: 'stderr' }) });
    await until('worker-registry answers', async () => (await cmd.request(WorkerListPage, { limit: 1 }, { timeoutMs: 1_000 })).ok);

    progress(`registering ${o.workers} workers (16 threads each)`);
    const sender = natsReportSender(nc, (r) => subjects.scopedCommand(WorkerReportCommand.service, WorkerReportCommand.verb, r.name), { timeoutMs: 30_000 });
    const load = new SealingLoad({ send: sender, workers: o.workers, threadsPerWorker: 16, reportIntervalMs: 5_000 });
    load.start();
    await until(`${o.workers} workers registered`, async () => {
      const r = await cmd.request(WorkerListPage, { limit: 1 }, { timeoutMs: 5_000 });
      return r.ok && r.result!.total >= o.workers;
    });
    await load.stop();
    sender.close();

    const port = await freePort();
    progress(`starting the gateway on 127.0.0.1:${port}`);
    const profAt = process.argv.indexOf('--gateway-cpu-prof');
    const prof = profAt >= 0 ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[profAt + 1]}`] : [];
    startApp(['gateway', 'run'], env({ FLEETVISOR_GATEWAY_LISTEN: `127.0.0.1:${port}`, FLEETVISOR_GATEWAY_RATE_LIMIT: '0', FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('gateway', 'bench-gateway') }), prof);
    await until('gateway ready', async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200, 60_000);
    const made = spawnSync(process.execPath, [FLEETVISOR_BIN, 'token', 'create', '--role', 'read', '--name', 'bench', '--json'], { env: env({}), encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`token create failed: ${made.stderr}`);
    const token = (JSON.parse(made.stdout) as { token: string }).token;

    progress(`GET /api/v1/workers (first page) with ${o.connections} connections for ${o.seconds} s`);
    await hammer(port, '/api/v1/workers', token, o.connections, 1);
    const workers = await hammer(port, '/api/v1/workers', token, o.connections, o.seconds);
    const statsPath = `/api/v1/stats/calls?caller=bench-caller&by=method&from=${encodeURIComponent(new Date(Date.now() - 86_400_000).toISOString())}`;
    progress(`GET /api/v1/stats/calls (one caller, 24 h) for ${o.seconds} s`);
    const stats = await hammer(port, statsPath, token, o.connections, o.seconds);

    progress(`SSE: ${o.sseClients} clients, ${o.sseRate} events/s appended for ${o.sseSeconds} s`);
    const sentAt = new Map<string, number>();
    const sseLatencies: number[] = [];
    let received = 0;
    const streams: http.ClientRequest[] = [];
    let connected = 0;
    for (let i = 0; i < o.sseClients; i++) {
      const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events/stream?stream=host-bench-sse', headers: { authorization: `Bearer ${token}` } }, (res) => {
        connected++;
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          const now = performance.now();
          // Whole frames only (a frame may be split across reads); only the event id is looked at
          // ("data: {"id":"<uuid>"…), so the client's own cost stays small.
          buf += chunk;
          const end = buf.lastIndexOf('\n\n');
          if (end < 0) return;
          const whole = buf.slice(0, end);
          buf = buf.slice(end + 2);
          let at = whole.indexOf('data: {"id":"');
          while (at >= 0) {
            const id = whole.slice(at + 13, at + 49);
            const sent = sentAt.get(id);
            if (sent !== undefined) {
              sseLatencies.push(now - sent);
              received++;
            }
            at = whole.indexOf('data: {"id":"', at + 49);
          }
        });
      });
      req.on('error', () => undefined);
      streams.push(req);
    }
    await until('SSE clients connected', async () => connected === o.sseClients, 30_000);
    progress(`SSE: ${connected} clients connected; appending`);
    const conn = await openEventStore(db.url, { poolSize: 2 });
    const perTick = Math.max(1, Math.round(o.sseRate / 100));
    const ticks = o.sseSeconds * 100;
    let appended = 0;
    const sseStart = performance.now();
    for (let tick = 0; tick < ticks; tick++) {
      const due = sseStart + tick * 10;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const events = Array.from({ length: perTick }, () => newEvent(HostOnline, 'bench-sse', { host: 'bench-sse', process: 'bench', pid: process.pid, fleetvisorVersion: '0.0.0-bench' }));
      const t = performance.now();
      for (const e of events) sentAt.set(e.id, t);
      await conn.store.appendToStream('host-bench-sse', events);
      appended += events.length;
    }
    const expected = appended * o.sseClients;
    progress(`SSE: ${appended} events appended; waiting for the deliveries`);
    await until('SSE deliveries', async () => received >= expected, 30_000).catch(() => progress(`SSE: ${received} of ${expected} deliveries`));
    const appendRate = Math.round(appended / ((performance.now() - sseStart) / 1000));
    for (const s of streams) s.destroy();
    await conn.close();
    const sse = summarize(sseLatencies);

    process.stderr.write(
      textTable(
        ['what', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
        [
          ['GET /api/v1/workers (100 of ' + o.workers + ')', workers.reqPerSec, workers.latency.p50Ms, workers.latency.p99Ms, workers.latency.maxMs, workers.errors],
          ['GET /api/v1/stats/calls (1 caller, 24 h)', stats.reqPerSec, stats.latency.p50Ms, stats.latency.p99Ms, stats.latency.maxMs, stats.errors],
          [`SSE ${o.sseClients} clients, ${appendRate} events/s (append -> client)`, '-', sse.p50Ms, sse.p99Ms, sse.maxMs, expected - received],
        ],
      ) + '\n',
    );
    emitResult({
      bench: 'gateway',
      quick: o.quick,
      workers: o.workers,
      connections: o.connections,
      workersReqPerSec: workers.reqPerSec,
      workersP50Ms: workers.latency.p50Ms,
      workersP99Ms: workers.latency.p99Ms,
      statsReqPerSec: stats.reqPerSec,
      statsP99Ms: stats.latency.p99Ms,
      sseClients: o.sseClients,
      sseEventsPerSec: appendRate,
      sseDeliveries: received,
      sseMissed: expected - received,
      sseP50Ms: sse.p50Ms,
      sseP99Ms: sse.p99Ms,
      seconds: Math.round((Date.now() - t0) / 1000),
    });
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    await nc.close();
    await deleteTestStreams(bus).catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:gateway failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
