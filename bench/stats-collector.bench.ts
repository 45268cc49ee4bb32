// Stats-collector benchmark: `npm run bench:stats-collector [-- --quick]`. Services run compiled
// (`fleetvisor meter`, `fleetvisor stats-collector run`, built first by the bench).
//
// 1. Proxy: a minimal JSON-RPC upstream in its own process, a `fleetvisor meter` process in front
//    of it. Added latency: rounds of calls alternating upstream-direct and through the proxy
//    (same client, same concurrency, keep-alive), p99 of each and the difference. Throughput: calls
//    per second through the proxy at a high concurrency. The proxy's peak RSS (VmHWM).
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
import http from 'node:http';
import { connect, type NatsConnection } from 'nats';
import { createSubjects, StatsCalls, StatsPush, StatsTop, type ApiCallRecord, type ApiCallsBatch } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging/core';
import { createLogger } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, freePort, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { fleetvisorProcess } from './lib/compiled-app';
import { emitResult, progress } from './lib/log';
import { summarize } from './lib/percentiles';
import { textTable } from './lib/table';

const MIN = 60_000;
const HOUR = 3_600_000;

interface Options {
  quick: boolean;
  historyDays: number;
  minuteHours: number;
  overheadRounds: number;
  throughputSeconds: number;
  ingestBatches: number;
  queryRuns: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  return quick
    ? { quick, historyDays: 3, minuteHours: 1, overheadRounds: 6, throughputSeconds: 2, ingestBatches: 100, queryRuns: 30 }
    : { quick, historyDays: 30, minuteHours: 25, overheadRounds: 30, throughputSeconds: 10, ingestBatches: 1_000, queryRuns: 100 };
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

function startUpstream(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, port: Number(d.toString().trim()) }));
    child.once('exit', (c) => reject(new Error(`upstream exited ${c}`)));
  });
}

const TOKEN = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"name":"t01000-sealer","perm":"write"}').toString('base64url')}.sig`;

/** `n` calls at `concurrency`, each timed (ms). */
async function calls(port: number, agent: http.Agent, n: number, concurrency: number): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = next++;
      const body = `{"jsonrpc":"2.0","id":${id},"method":"Filecoin.ChainHead","params":[]}`;
      const t0 = performance.now();
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/rpc/v1', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${TOKEN}` } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          lat.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    while (next < n) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return lat;
}

async function proxyPhase(opts: Options, env: NodeJS.ProcessEnv) {
  const upstream = await startUpstream();
  const port = await freePort();
  const app = fleetvisorProcess(['meter', '--listen', `127.0.0.1:${port}`, '--upstream', `http://127.0.0.1:${upstream.port}/rpc/v1`, '--component', 'venus', '--source', 'bench-meter']);
  const meter = spawn(app.file, app.argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let meterErr = '';
  meter.stderr!.on('data', (d: Buffer) => (meterErr += d.toString()));
  try {
    await waitFor('meter listening', () => meterErr.includes('meter: venus at'), 30_000);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    // Warm both paths (JIT, sockets).
    await calls(upstream.port, agent, 1_000, 8);
    await calls(port, agent, 1_000, 8);
    const direct: number[] = [];
    const proxied: number[] = [];
    const concurrency = 4;
    for (let r = 0; r < opts.overheadRounds; r++) {
      direct.push(...(await calls(upstream.port, agent, 500, concurrency)));
      proxied.push(...(await calls(port, agent, 500, concurrency)));
    }
    const d = summarize(direct);
    const p = summarize(proxied);
    progress(`proxy overhead at concurrency ${concurrency}: p50 ${d.p50Ms} -> ${p.p50Ms} ms, p99 ${d.p99Ms} -> ${p.p99Ms} ms`);
    // Throughput through the proxy.
    const t0 = performance.now();
    let done = 0;
    while (performance.now() - t0 < opts.throughputSeconds * 1000) done += (await calls(port, agent, 2_000, 64)).length;
    const callsPerSec = Math.round(done / ((performance.now() - t0) / 1000));
    const t1 = performance.now();
    let doneDirect = 0;
    while (performance.now() - t1 < Math.min(2, opts.throughputSeconds) * 1000) doneDirect += (await calls(upstream.port, agent, 2_000, 64)).length;
    const directPerSec = Math.round(doneDirect / ((performance.now() - t1) / 1000));
    const mem = rssOf(meter.pid!);
    progress(`proxy throughput ${callsPerSec} calls/s (upstream alone ${directPerSec}); meter RSS ${mem.rssMb} MB, peak ${mem.peakMb} MB`);
    agent.destroy();
    return { concurrency, direct: d, proxied: p, p99OverheadMs: Math.round((p.p99Ms - d.p99Ms) * 100) / 100, p50OverheadMs: Math.round((p.p50Ms - d.p50Ms) * 100) / 100, callsPerSec, directCallsPerSec: directPerSec, rss: mem };
  } finally {
    meter.kill('SIGTERM');
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
  const started = Date.now();
  // eslint-disable-next-line no-restricted-syntax -- the children inherit PATH, HOME
  const base: NodeJS.ProcessEnv = { ...process.env, FLEETVISOR_NATS_URL: sharedNatsUrl(), FLEETVISOR_LOG_LEVEL: 'warn', FLEETVISOR_LOG_FORMAT: 'json', FLEETVISOR_HOST: 'bench' };
  const proxyBus = testBusNames();
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  progress(`proxy phase (${opts.quick ? 'quick' : 'full'})`);
  const proxy = only === 'collector' ? { callsPerSec: NaN, p99OverheadMs: NaN, rss: { rssMb: NaN, peakMb: NaN } } : await proxyPhase(opts, { ...base, FLEETVISOR_SUBJECT_ROOT: proxyBus.subjectRoot });
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
          ['proxy added p99 (concurrency 4)', `${proxy.p99OverheadMs} ms`, '<= 1 ms'],
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
