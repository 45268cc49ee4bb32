// Stats-collector benchmark: `npm run bench:stats-collector [-- --quick]`. Services run compiled
// (`fleetvisor meter`, `fleetvisor stats-collector run`, built first by the bench).
//
// 1. Proxy: a minimal JSON-RPC upstream in its own process, a `fleetvisor meter` process in front
//    of it, and the load client in a third (CLIENT below). Added latency: every lane alternates
//    upstream-direct and through-the-proxy calls (same client, same concurrency, keep-alive, warmed
//    up), p99 of each and the difference, overall and per block of the run (its spread). Throughput:
//    calls per second through the proxy at 64 lanes, with the meter's CPU. The proxy's peak RSS (VmHWM).
// 2. Ingest: a `stats-collector run` process on its own database; 20 sources push batches of
//    1,000 records (realistic counts: 1-30 calls per caller × method per window) as fast as the
//    collector answers; counted calls per second = calls pushed / time until the rollups hold
//    them all (a StatsTop total). The collector's RSS before and after.
// 3. Query: history for 20 callers × 3 components × 30 methods seeded through the same push path,
//    hourly (one 60 s batch per hour, merged into hourly rollups by compaction) for 30 days (3
//    with --quick) and per-minute for the last `minuteHours`; then p99 of one caller's whole history
//    by component at a 1-hour step, and of one component's 24 h per-method breakdown.
//
// Output: progress and a table on stderr; ONE JSON object as the last line of stdout with
// proxyCallsPerSec, proxyP99OverheadMs, ingestCallsPerSec, queryP99Ms and the details.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { connect, type NatsConnection } from 'nats';
import { createSubjects, StatsCalls, StatsPush, StatsTop, type ApiCallRecord, type ApiCallsBatch } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging/core';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, freePort, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { fleetvisorProcess } from './lib/compiled-app';
import { emitResult, progress } from './lib/log';
import { summarize, type LatencySummary } from './lib/percentiles';
import { textTable } from './lib/table';

const MIN = 60_000;
const HOUR = 3_600_000;

interface Options {
  quick: boolean;
  historyDays: number;
  minuteHours: number;
  /** Lanes (calls in flight) of the alternating overhead measurement, and calls per lane. */
  overheadLanes: number;
  overheadPerLane: number;
  /** Blocks the overhead samples are cut into for the spread of the p99 difference. */
  overheadBlocks: number;
  /** Calls per lane (64 lanes) of the throughput measurement. */
  throughputPerLane: number;
  /** Upper bounds of the two proxy measurements, whatever the machine's load. */
  overheadMaxSeconds: number;
  throughputMaxSeconds: number;
  /** Node flags the meter runs with (`--meter-node-flags "..."`, for comparing them). */
  meterNodeFlags: string[];
  /**
   * `--priority N`: the scheduling priority (nice value, -20..19) of every process of the proxy
   * phase (upstream, client, relay, Node.js proxy, meter), to see how much of the tail is waiting
   * for a core behind other work on the machine. Unset: the default (0).
   */
  priority: number | undefined;
  ingestBatches: number;
  queryRuns: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const flagsAt = argv.indexOf('--meter-node-flags');
  const meterNodeFlags = flagsAt >= 0 ? (argv[flagsAt + 1] ?? '').split(/\s+/).filter(Boolean) : [];
  const sizes = quick
    ? { quick, historyDays: 3, minuteHours: 1, overheadLanes: 4, overheadPerLane: 6_000, overheadBlocks: 6, throughputPerLane: 200, overheadMaxSeconds: 12, throughputMaxSeconds: 4, ingestBatches: 100, queryRuns: 30 }
    : { quick, historyDays: 30, minuteHours: 25, overheadLanes: 4, overheadPerLane: 25_000, overheadBlocks: 20, throughputPerLane: 1_000, overheadMaxSeconds: 120, throughputMaxSeconds: 20, ingestBatches: 1_000, queryRuns: 100 };
  const priorityAt = argv.indexOf('--priority');
  const priority = priorityAt >= 0 ? Number(argv[priorityAt + 1]) : undefined;
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= -20 && priority <= 19)) throw new Error('--priority must be a nice value, -20..19');
  const lanesAt = argv.indexOf('--lanes');
  const overheadLanes = lanesAt >= 0 ? Number(argv[lanesAt + 1]) : sizes.overheadLanes;
  if (!(Number.isInteger(overheadLanes) && overheadLanes >= 1 && overheadLanes <= 64)) throw new Error('--lanes must be 1..64');
  return { ...sizes, overheadLanes, meterNodeFlags, priority };
}

const logger = createLogger({ name: 'bench', level: 'silent', format: 'json' });

function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 102.4) / 10, peakMb: Math.round(kb('VmHWM') / 102.4) / 10 };
}

async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---- 1. proxy ----

const UPSTREAM = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const id = /"id":(\\d+)/.exec(Buffer.concat(chunks).toString())?.[1] ?? 'null';
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"jsonrpc":"2.0","id":' + id + ',"result":{"Height":3000000,"Cids":[{"/":"bafy2bzaceabc"}]}}');
  });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

// A bare TCP relay in its own process: no HTTP parsing, no counting, bytes piped both ways. It is
// the floor of any proxy that runs as a separate process on the same host (one more hop, one more
// process to be scheduled), measured in the same run as the meter.
const RELAY = `
const net = require('node:net');
const upstreamPort = Number(process.argv[1]);
const s = net.createServer({ noDelay: true }, (c) => {
  const u = net.connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true });
  c.pipe(u);
  u.pipe(c);
  c.on('error', () => u.destroy());
  u.on('error', () => c.destroy());
});
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

// The least a Node.js HTTP proxy does, in its own process: read the request, send it upstream on
// a keep-alive agent, stream the answer back; no counting, no header filtering. The meter minus
// this is what metering costs; this minus the bare relay is what HTTP in Node.js costs.
const NODE_HTTP_PROXY = `
const http = require('node:http');
const upstreamPort = Number(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const s = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (u) => {
      res.writeHead(u.statusCode, u.headers);
      u.on('data', (c) => res.write(c));
      u.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    up.end(Buffer.concat(chunks));
  });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

/** --priority for the proxy phase's processes (set once in main). */
let childPriority: number | undefined;

function prioritize(child: ChildProcess): void {
  if (childPriority !== undefined && child.pid !== undefined) setPriority(child.pid, childPriority);
}

function startChild(script: string, args: string[] = [], nodeFlags: readonly string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [...nodeFlags, '-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  prioritize(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: Number(d.toString().trim()) }));
    child.once('exit', (c) => reject(new Error(`bench child exited ${c}`)));
  });
}

// The load client of the proxy phase, in a process of its own so that its event loop is not the
// bench's (which also reads the meter's stderr and /proc) and its CPU shows apart. Each lane sends
// one call at a time and takes the targets in turn (lane l starts at target l), so every target
// sees the same client, the same moments of machine noise and the same concurrency; keep-alive
// sockets, warmed up first. Prints {samples: [ms[] per target, in completion order], seconds, cpuMs}.
const CLIENT = `
const http = require('node:http');
const cfg = JSON.parse(process.argv[1]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
const headers = { 'content-type': 'application/json', authorization: 'Bearer ' + cfg.token };
function call(port, id) {
  return new Promise((resolve, reject) => {
    const body = '{"jsonrpc":"2.0","id":' + id + ',"method":"Filecoin.ChainHead","params":[]}';
    headers['content-length'] = body.length;
    const t0 = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/rpc/v1', agent, headers }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(Number(process.hrtime.bigint() - t0) / 1e6));
    });
    req.on('error', reject);
    req.end(body);
  });
}
let deadline = Infinity;
async function lane(l, n, out) {
  const t = cfg.ports.length;
  for (let k = 0; k < n && performance.now() < deadline; k++) {
    const i = (k + l) % t;
    const ms = await call(cfg.ports[i], k);
    if (out) out[i].push(ms);
  }
}
(async () => {
  const lanes = Array.from({ length: cfg.lanes }, (_, l) => l);
  await Promise.all(lanes.map((l) => lane(l, cfg.warm, undefined)));
  const samples = cfg.ports.map(() => []);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // A loaded machine must not stretch the run without bound: the lanes stop at maxSeconds (all lanes at once, so every target keeps its share).
  deadline = t0 + cfg.maxSeconds * 1000;
  await Promise.all(lanes.map((l) => lane(l, cfg.perLane, samples)));
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ samples, seconds, cpuMs: (cpu.user + cpu.system) / 1000 }));
  agent.destroy();
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

interface ClientRun {
  samples: number[][];
  seconds: number;
  cpuMs: number;
}

function runClient(cfg: { ports: number[]; lanes: number; warm: number; perLane: number; maxSeconds: number }): Promise<ClientRun> {
  const child = spawn(process.execPath, ['-e', CLIENT, JSON.stringify({ ...cfg, token: TOKEN })], { stdio: ['ignore', 'pipe', 'inherit'] });
  prioritize(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as ClientRun) : reject(new Error(`proxy client exited ${code}`))));
  });
}

const TOKEN = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"name":"t01000-sealer","perm":"write"}').toString('base64url')}.sig`;

const round2 = (v: number): number => Math.round(v * 100) / 100;

interface Spread {
  samplesPerBlock: number;
  median: number;
  min: number;
  max: number;
  each: number[];
}

/** p99(a) - p99(b) in each of `n` consecutive blocks of the samples, with the median and range. */
function p99Blocks(a: readonly number[], b: readonly number[], n: number): Spread {
  const size = Math.floor(Math.min(a.length, b.length) / n);
  const each: number[] = [];
  for (let i = 0; i < n; i++) each.push(round2(summarize(a.slice(i * size, (i + 1) * size)).p99Ms - summarize(b.slice(i * size, (i + 1) * size)).p99Ms));
  const sorted = [...each].sort((x, y) => x - y);
  return { samplesPerBlock: size, median: sorted[Math.floor((sorted.length - 1) / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]!, each };
}

/** CPU seconds a process has used (utime + stime from /proc). */
function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

const pct = (cpuMs: number, seconds: number): number => Math.round(cpuMs / 10 / seconds);

async function proxyPhase(opts: Options, env: NodeJS.ProcessEnv) {
  const upstream = await startChild(UPSTREAM);
  const relay = await startChild(RELAY, [String(upstream.port)]);
  const nodeProxy = await startChild(NODE_HTTP_PROXY, [String(upstream.port)]);
  const port = await freePort();
  const app = fleetvisorProcess(['meter', '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${upstream.port}/rpc/v1`, '--component', 'venus', '--source', 'bench-meter'], opts.meterNodeFlags);
  const meter = spawn(app.file, app.argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  prioritize(meter);
  let meterErr = '';
  meter.stderr!.on('data', (d: Buffer) => (meterErr += d.toString()));
  try {
    await waitFor('meter listening', () => meterErr.includes('meter: venus at'), 30_000);
    const lanes = opts.overheadLanes;
    // Four targets in turn: upstream direct, through the bare relay, through the minimal Node.js HTTP proxy, through the meter.
    const run = await runClient({ ports: [upstream.port, relay.port, nodeProxy.port, port], lanes, warm: 1_500, perLane: opts.overheadPerLane, maxSeconds: opts.overheadMaxSeconds });
    const [d, r, n, p] = run.samples.map((x) => summarize(x)) as [LatencySummary, LatencySummary, LatencySummary, LatencySummary];
    const callsPerSecDuring = Math.round((d.count + r.count + n.count + p.count) / run.seconds);
    // The same samples in consecutive blocks: how much the machine's noise moves the p99 difference.
    const blocks = p99Blocks(run.samples[3]!, run.samples[0]!, opts.overheadBlocks);
    const relayBlocks = p99Blocks(run.samples[1]!, run.samples[0]!, opts.overheadBlocks);
    const nodeBlocks = p99Blocks(run.samples[2]!, run.samples[0]!, opts.overheadBlocks);
    const meterOverNode = p99Blocks(run.samples[3]!, run.samples[2]!, opts.overheadBlocks);
    const spread = (b: Spread) => `median +${b.median}, ${b.min} .. ${b.max}`;
    progress(
      `added latency, ${lanes} lanes taking direct / TCP relay / Node.js HTTP proxy / meter in turn, ${callsPerSecDuring} calls/s, ${d.count} samples each: ` +
        `p50 ${d.p50Ms} / ${r.p50Ms} / ${n.p50Ms} / ${p.p50Ms} ms, p99 ${d.p99Ms} / ${r.p99Ms} / ${n.p99Ms} / ${p.p99Ms} ms; added p99 (blocks of ${blocks.samplesPerBlock}): ` +
        `meter +${round2(p.p99Ms - d.p99Ms)} (${spread(blocks)}), Node.js HTTP proxy +${round2(n.p99Ms - d.p99Ms)} (${spread(nodeBlocks)}), TCP relay +${round2(r.p99Ms - d.p99Ms)} (${spread(relayBlocks)}); ` +
        `meter over the Node.js HTTP proxy +${round2(p.p99Ms - n.p99Ms)} (${spread(meterOverNode)}); client CPU ${pct(run.cpuMs, run.seconds)} %`,
    );
    const cpuBefore = cpuOf(meter.pid!);
    const through = await runClient({ ports: [port], lanes: 64, warm: 50, perLane: opts.throughputPerLane, maxSeconds: opts.throughputMaxSeconds });
    const meterCpuPct = Math.round(((cpuOf(meter.pid!) - cpuBefore) / through.seconds) * 100);
    const callsPerSec = Math.round(through.samples[0]!.length / through.seconds);
    const direct = await runClient({ ports: [upstream.port], lanes: 64, warm: 50, perLane: Math.round(opts.throughputPerLane / 2), maxSeconds: opts.throughputMaxSeconds / 2 });
    const directPerSec = Math.round(direct.samples[0]!.length / direct.seconds);
    const mem = rssOf(meter.pid!);
    progress(
      `proxy throughput ${callsPerSec} calls/s at 64 lanes (meter CPU ${meterCpuPct} %, client CPU ${pct(through.cpuMs, through.seconds)} %); upstream alone ${directPerSec}; meter RSS ${mem.rssMb} MB, peak ${mem.peakMb} MB`,
    );
    return {
      concurrency: lanes,
      alternatingCallsPerSec: callsPerSecDuring,
      direct: d,
      relay: r,
      nodeHttpProxy: n,
      proxied: p,
      p99OverheadMs: round2(p.p99Ms - d.p99Ms),
      p50OverheadMs: round2(p.p50Ms - d.p50Ms),
      p99OverheadBlocks: blocks,
      relayP99OverheadMs: round2(r.p99Ms - d.p99Ms),
      relayP99OverheadBlocks: relayBlocks,
      nodeHttpProxyP99OverheadMs: round2(n.p99Ms - d.p99Ms),
      nodeHttpProxyP99OverheadBlocks: nodeBlocks,
      meterOverNodeHttpProxyP99Ms: round2(p.p99Ms - n.p99Ms),
      meterOverNodeHttpProxyBlocks: meterOverNode,
      callsPerSec,
      meterCpuPct,
      directCallsPerSec: directPerSec,
      meterNodeFlags: opts.meterNodeFlags,
      priority: opts.priority ?? 0,
      rss: mem,
    };
  } finally {
    meter.kill('SIGTERM');
    relay.child.kill('SIGTERM');
    nodeProxy.child.kill('SIGTERM');
    upstream.child.kill('SIGTERM');
  }
}

// ---- 2 and 3: collector ----

const CALLERS = Array.from({ length: 20 }, (_, i) => `t0${1000 + i}-sealer`);
const COMPONENTS = ['venus', 'venus-messager', 'venus-gateway'];
const METHODS = Array.from({ length: 30 }, (_, i) => `Filecoin.Method${String(i).padStart(2, '0')}`);

/** Every caller × component × method (1,800 records) for one window, counts from a cheap hash. */
function allRecords(seed: number, scale = 1): ApiCallRecord[] {
  const out: ApiCallRecord[] = [];
  let h = seed | 0;
  for (const caller of CALLERS)
    for (const component of COMPONENTS)
      for (const method of METHODS) {
        h = (Math.imul(h, 1103515245) + 12345) | 0;
        const calls = (1 + ((h >>> 8) % 30)) * scale;
        out.push({ caller, component, method, calls, errors: calls > 25 * scale ? 1 : 0 });
      }
  return out;
}

function batches(source: string, windowStart: number, windowSeconds: number, records: ApiCallRecord[]): ApiCallsBatch[] {
  const out: ApiCallsBatch[] = [];
  for (let part = 0; part * 1000 < records.length; part++) out.push({ source, windowStart: new Date(windowStart).toISOString(), windowSeconds, part, records: records.slice(part * 1000, (part + 1) * 1000) });
  return out;
}

async function pushAll(bus: CommandBus, list: readonly ApiCallsBatch[], concurrency = 8): Promise<number> {
  let next = 0;
  let calls = 0;
  const worker = async () => {
    while (next < list.length) {
      const b = list[next++]!;
      const r = await bus.request(StatsPush, b, { scope: b.source, timeoutMs: 60_000 });
      if (!r.ok) throw new Error(`push refused: ${r.error.code} ${r.error.message}`);
      for (const x of b.records) calls += x.calls;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return calls;
}

async function totalCalls(bus: CommandBus, fromMs: number, toMs: number): Promise<number> {
  const r = await bus.request(StatsTop, { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), by: 'component' }, { timeoutMs: 60_000 });
  if (!r.ok) throw new Error(r.error.message);
  return r.result!.total.calls;
}

async function collectorPhases(opts: Options, baseEnv: NodeJS.ProcessEnv) {
  const db = await createTestDatabase('bench_stats');
  const bus = testBusNames();
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    FLEETVISOR_DATABASE_URL: db.url,
    FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
    FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
    FLEETVISOR_STATS_MINUTE_AGE: `${opts.minuteHours + 1}h`,
    FLEETVISOR_STATS_TEN_MINUTE_AGE: `${opts.minuteHours + 1}h`,
    FLEETVISOR_STATS_COMPACT_INTERVAL: '0',
    FLEETVISOR_STATS_ANOMALY_INTERVAL: '0',
    // The collector runs without the relay: nothing is published; no need to reserve 8 GiB.
    FLEETVISOR_EVENT_STREAM_MAX_BYTES: String(256 * 1024 ** 2),
    FLEETVISOR_DEAD_LETTER_STREAM_MAX_BYTES: String(16 * 1024 ** 2),
  };
  const migrate = fleetvisorProcess(['migrate']);
  await new Promise<void>((resolve, reject) => spawn(migrate.file, migrate.argv, { env, stdio: 'ignore' }).once('exit', (c) => (c === 0 ? resolve() : reject(new Error(`migrate exited ${c}`)))));
  // No relay in the collector: publishing the seeded month (4,400 events of up to 250 KiB) to
  // JetStream would run beside the queries; in a fleet the relay's leader is one process of many.
  const app = fleetvisorProcess(['stats-collector', 'run', '--no-relay']);
  const collector = spawn(app.file, app.argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  collector.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const nc: NatsConnection = await connect({ servers: sharedNatsUrl() });
  const commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger });
  try {
    await waitFor('collector serving', () => err.includes('stats-collector: serving'), 60_000);
    const rssStart = rssOf(collector.pid!);

    // ---- ingest: recent 10 s windows, 20 sources ----
    const now = Date.now();
    const w0 = Math.floor(now / 10_000) * 10_000 - opts.ingestBatches * 10_000;
    const list: ApiCallsBatch[] = [];
    for (let i = 0; list.length < opts.ingestBatches; i++) list.push(...batches(`bench-src-${i % 20}`, w0 + Math.floor(i / 20) * 10_000, 10, allRecords(i).slice(0, 1000)));
    const t0 = performance.now();
    const pushed = await pushAll(commands, list.slice(0, opts.ingestBatches));
    const pushedAt = performance.now();
    await waitFor('rollups hold every pushed call', async () => (await totalCalls(commands, w0 - HOUR, now + HOUR)) === pushed, 300_000);
    const ingestSeconds = (performance.now() - t0) / 1000;
    const ingestCallsPerSec = Math.round(pushed / ingestSeconds);
    const records = opts.ingestBatches * 1000;
    const rssIngest = rssOf(collector.pid!);
    progress(`ingest: ${pushed.toLocaleString('en-US')} calls in ${records.toLocaleString('en-US')} records: pushed in ${((pushedAt - t0) / 1000).toFixed(1)} s, in the rollups after ${ingestSeconds.toFixed(1)} s: ${ingestCallsPerSec.toLocaleString('en-US')} calls/s, ${Math.round(records / ingestSeconds).toLocaleString('en-US')} records/s; RSS ${rssIngest.rssMb} MB (peak ${rssIngest.peakMb})`);

    // ---- query history: hourly for historyDays, per-minute for minuteHours ----
    const hourNow = Math.floor(now / HOUR) * HOUR;
    const seedList: ApiCallsBatch[] = [];
    for (let h = opts.historyDays * 24; h > opts.minuteHours; h--) seedList.push(...batches('bench-history', hourNow - h * HOUR, 60, allRecords(h, 60)));
    const minuteStart = hourNow - opts.minuteHours * HOUR;
    for (let m = minuteStart; m < now - MIN; m += MIN) seedList.push(...batches('bench-recent', m, 60, allRecords(m / MIN)));
    const s0 = performance.now();
    const seeded = await pushAll(commands, seedList);
    await waitFor('history in the rollups', async () => (await totalCalls(commands, hourNow - (opts.historyDays * 24 + 1) * HOUR, now + HOUR)) === seeded + pushed, 900_000);
    const seedSeconds = (performance.now() - s0) / 1000;
    progress(`seeded ${seedList.length.toLocaleString('en-US')} batches (${opts.historyDays} days hourly, ${opts.minuteHours} h per minute) in ${seedSeconds.toFixed(1)} s`);
    return { db, bus, nc, commands, collector, env, now, rssStart, rssIngest, ingest: { calls: pushed, records, seconds: Math.round(ingestSeconds * 100) / 100, callsPerSec: ingestCallsPerSec, recordsPerSec: Math.round(records / ingestSeconds) }, seed: { batches: seedList.length, seconds: Math.round(seedSeconds * 10) / 10 } };
  } catch (e) {
    process.stderr.write(`collector output (end):\n${err.slice(-4000)}\n`);
    collector.kill('SIGTERM');
    await nc.close();
    await deleteTestStreams(bus);
    await db.drop();
    throw e;
  }
}

async function compactVia(env: NodeJS.ProcessEnv): Promise<void> {
  // One compaction, as a live collector runs it on its timer: the hourly batches become hourly
  // rollups (the collector was started with compaction off so that the seeding is not measured
  // against it).
  const { Pool } = await import('pg');
  const { compactRollups } = await import('../apps/stats-collector/src/projection/compaction');
  const pool = new Pool({ connectionString: env.FLEETVISOR_DATABASE_URL, max: 1 });
  try {
    const hours = Number(/^(\d+)h$/.exec(env.FLEETVISOR_STATS_MINUTE_AGE ?? '')?.[1] ?? 48);
    await compactRollups(pool, { minuteAgeMs: hours * HOUR, tenMinuteAgeMs: hours * HOUR, retentionMs: 400 * 24 * HOUR });
  } finally {
    await pool.end();
  }
}

async function queryPhase(opts: Options, c: Awaited<ReturnType<typeof collectorPhases>>) {
  await compactVia(c.env);
  const rows = await (async () => {
    const { Client } = await import('pg');
    const cl = new Client({ connectionString: c.env.FLEETVISOR_DATABASE_URL });
    await cl.connect();
    const r = await cl.query<{ res: number; n: number }>('SELECT res, count(*)::int AS n FROM fv_stats_rollups GROUP BY res ORDER BY res');
    await cl.end();
    return r.rows;
  })();
  progress(`rollups by resolution: ${rows.map((r) => `${r.res} s: ${r.n.toLocaleString('en-US')}`).join(', ')}`);
  const history = { from: new Date(c.now - opts.historyDays * 24 * HOUR - HOUR).toISOString(), to: new Date(c.now).toISOString() };
  const day = { from: new Date(c.now - 24 * HOUR).toISOString(), to: new Date(c.now).toISOString() };
  const time = async (fn: () => Promise<unknown>): Promise<number[]> => {
    await fn();
    const out: number[] = [];
    for (let i = 0; i < opts.queryRuns; i++) {
      const t0 = performance.now();
      await fn();
      out.push(performance.now() - t0);
    }
    return out;
  };
  const ask = async <T>(p: Promise<{ ok: boolean; result?: T; error?: { message: string } }>) => {
    const r = await p;
    if (!r.ok) throw new Error(r.error!.message);
    return r.result!;
  };
  const callerHistory = summarize(await time(() => ask(c.commands.request(StatsCalls, { ...history, caller: CALLERS[3]!, by: 'component', stepSeconds: 3600 }, { timeoutMs: 30_000 }))));
  const breakdown = summarize(await time(() => ask(c.commands.request(StatsCalls, { ...day, component: 'venus', by: 'method', stepSeconds: 600, limit: 30 }, { timeoutMs: 30_000 }))));
  progress(`query: one caller's ${opts.historyDays}-day history by component (1 h step) p99 ${callerHistory.p99Ms} ms; one component's 24 h per-method breakdown (10 min step) p99 ${breakdown.p99Ms} ms`);
  return { callerHistory, breakdown, rollups: rows };
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  childPriority = opts.priority;
  const started = Date.now();
  // eslint-disable-next-line no-restricted-syntax -- the children inherit PATH, HOME
  const base: NodeJS.ProcessEnv = { ...process.env, FLEETVISOR_NATS_URL: sharedNatsUrl(), FLEETVISOR_LOG_LEVEL: 'warn', FLEETVISOR_LOG_FORMAT: 'json', FLEETVISOR_HOST: 'bench' };
  const proxyBus = testBusNames();
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  progress(`proxy phase (${opts.quick ? 'quick' : 'full'})`);
  const proxy = only === 'collector' ? { concurrency: NaN, alternatingCallsPerSec: NaN, callsPerSec: NaN, p99OverheadMs: NaN, rss: { rssMb: NaN, peakMb: NaN } } : await proxyPhase(opts, { ...base, FLEETVISOR_SUBJECT_ROOT: proxyBus.subjectRoot });
  if (only === 'proxy') {
    emitResult({ bench: 'stats-collector', only, proxy });
    return;
  }
  progress('collector phases');
  const c = await collectorPhases(opts, base);
  let query;
  try {
    query = await queryPhase(opts, c);
  } finally {
    c.collector.kill('SIGTERM');
    await new Promise((r) => c.collector.once('exit', r));
    await c.nc.close();
    // Its event and dead-letter streams and the key bucket `migrate` made.
    await deleteTestStreams(c.bus);
    await c.db.drop();
  }
  const queryP99Ms = Math.max(query.callerHistory.p99Ms, query.breakdown.p99Ms);
  process.stderr.write(
    '\n' +
      textTable(
        ['measure', 'value', 'target'],
        [
          ['proxy calls/s (concurrency 64)', proxy.callsPerSec, '>= 5,000'],
          [`proxy added p99 (${proxy.concurrency} lanes, ${proxy.alternatingCallsPerSec} calls/s)`, `${proxy.p99OverheadMs} ms`, '<= 1 ms'],
          ['proxy RSS / peak', `${proxy.rss.rssMb} / ${proxy.rss.peakMb} MB`, ''],
          ['ingest counted calls/s', c.ingest.callsPerSec, '>= 100,000'],
          ['collector RSS start / after ingest (peak)', `${c.rssStart.rssMb} / ${c.rssIngest.rssMb} (${c.rssIngest.peakMb}) MB`, 'bounded'],
          [`query p99: caller history ${opts.historyDays} d`, `${query.callerHistory.p99Ms} ms`, '<= 100 ms'],
          ['query p99: component 24 h by method', `${query.breakdown.p99Ms} ms`, '<= 100 ms'],
        ],
      ) +
      '\n',
  );
  emitResult({
    bench: 'stats-collector',
    quick: opts.quick,
    durationS: Math.round((Date.now() - started) / 1000),
    proxyCallsPerSec: proxy.callsPerSec,
    proxyP99OverheadMs: proxy.p99OverheadMs,
    ingestCallsPerSec: c.ingest.callsPerSec,
    queryP99Ms,
    proxy,
    ingest: c.ingest,
    collectorRss: { start: c.rssStart, afterIngest: c.rssIngest },
    seed: c.seed,
    query,
  });
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
