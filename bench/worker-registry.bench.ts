// Worker-registry benchmark: `npm run bench:worker-registry [-- --quick]`.
//
// The registry runs as a real process (`worker-registry run`, as in production); simulated sealing
// workers (bench/lib/sealing-load.ts SealingLoad: 16 threads each walking the sealing flows, with errors) report
// to it over NATS from this process. Phases:
//   1. nominal: 5,000 workers x 16 threads reporting every 10 s (500 reports/s), the fleet;
//   2. stress:  the same workers reporting every 960 ms (5,208 reports/s offered), the throughput target;
// For each: sustained report rate, registry CPU (of one core) and RSS, report round trip, and
// report -> visible: a prober picks reports as they are sent and asks the registry (`worker info`,
// answered from the same in-memory state as `worker list`) until the worker's LastPing shows it.
// A full `worker list` of every worker is timed too.
//   bridge: a few workers bridged by real `worker-agent run` processes (FLEETVISOR_WORKER_SOURCE=
//      bridge, default poll and heartbeat) to libs/devnet's venus-worker JSON-RPC server; threads are
//      paused and resumed on that endpoint (as damocles' own CLI does) and each change is timed until
//      `worker info` shows it;
//   3. rebuild: a log of 1,000,000 thread transitions (150,000 with --quick) is appended into a
//      database of its own, then `worker-registry rebuild` replays it into the projection.
// Output: progress and a table on stderr; ONE JSON object as the last line of stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import {
  createSubjects,
  newEventFor,
  SEALER_STATES,
  ThreadStateChanged,
  WorkerInfo,
  WorkerList,
  WorkerListPage,
  WorkerRegistered,
  WorkerReportCommand,
  type EventEnvelope,
  type WorkerReport,
} from '@fleetvisor/contracts';
import { openEventStore } from '@fleetvisor/event-store';
import { CommandBus } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import { fleetvisorProcess } from './lib/compiled-app';
import { adminDatabaseUrl, createTestDatabase, sharedNatsUrl, type TestDatabase } from '@fleetvisor/testing';
import { emitResult, progress } from './lib/log';
import { checkpointFirst, loadSnapshot, machineInfo } from './lib/machine';
import { cpuMsSince, processesCpu } from './lib/cpu';
import { textTable } from './lib/table';
import { natsReportSender, SealingLoad, type LoadStats } from './lib/sealing-load';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { SimulatedWorker, startVenusWorkerRpcServer, type VenusWorkerRpcServer } from '@fleetvisor/devnet';
import { MIGRATIONS as WORKER_REGISTRY_MIGRATIONS } from '../apps/worker-registry/src/migrations';


interface Options {
  quick: boolean;
  workers: number;
  threads: number;
  nominalSeconds: number;
  stressSeconds: number;
  /** Report interval of each worker in the stress phase. */
  stressIntervalMs: number;
  warmupSeconds: number;
  rebuildTransitions: number;
  /** Events per transaction of `worker-registry rebuild`. */
  rebuildBatch: number;
  /** Postgres connections of the registry process. */
  pool: number;
  /** Bridged workers and the changes made on their endpoints in the bridge phase. */
  bridgeWorkers: number;
  bridgeChanges: number;
}

const USAGE = `usage: npm run bench:worker-registry [-- options]
  --quick                 under 60 s: shorter phases, rebuild over 150,000 transitions
  --workers N             simulated workers (default 5000)
  --threads N             threads per worker (default 16)
  --nominal-seconds N     measured seconds at one report per worker per 10 s (default 30, quick 6)
  --stress-seconds N      measured seconds of the stress phase (default 30, quick 8)
  --stress-interval-ms N  report interval of each worker under stress (default 960: 5,208 reports/s
                          offered by 5,000 workers, so a sustained 5,000/s shows with a margin)
  --rebuild-transitions N thread transitions in the rebuild log (default 1000000, quick 150000)
  --pool N                Postgres connections of the registry (default 32)
  --rebuild-batch N       events per transaction of the rebuild (default 10000)
  --bridge-workers N      workers bridged by worker-agent processes in the bridge phase (default 4, quick 3)
  --bridge-changes N      pauses/resumes made on their endpoints and timed (default 100, quick 30)
  --registry-gc           run the registry with --expose-gc: its stats lines show the live heap
  --registry-cpu-prof D   run the registry and rebuild processes with --cpu-prof into directory D
  --stop-after-nominal    skip the stress and rebuild phases`;

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const o: Options = {
    quick,
    workers: 5_000,
    threads: 16,
    nominalSeconds: quick ? 6 : 30,
    stressSeconds: quick ? 8 : 30,
    stressIntervalMs: 960,
    warmupSeconds: quick ? 1 : 5,
    rebuildTransitions: quick ? 150_000 : 1_000_000,
    rebuildBatch: 10_000,
    pool: 32,
    bridgeWorkers: quick ? 3 : 4,
    bridgeChanges: quick ? 30 : 100,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick' || a === '--stop-after-nominal' || a === '--registry-gc') continue;
    if (a === '--registry-cpu-prof') {
      i++;
      continue;
    }
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    }
    const n = Number(argv[++i]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${a} needs a positive integer\n${USAGE}`);
    if (a === '--workers') o.workers = n;
    else if (a === '--threads') o.threads = n;
    else if (a === '--nominal-seconds') o.nominalSeconds = n;
    else if (a === '--stress-seconds') o.stressSeconds = n;
    else if (a === '--stress-interval-ms') o.stressIntervalMs = n;
    else if (a === '--rebuild-transitions') o.rebuildTransitions = n;
    else if (a === '--pool') o.pool = n;
    else if (a === '--rebuild-batch') o.rebuildBatch = n;
    else if (a === '--bridge-workers') o.bridgeWorkers = n;
    else if (a === '--bridge-changes') o.bridgeChanges = n;
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

// ---- the registry process ----

function procStat(pid: number): { cpuMs: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / 100; // CLK_TCK 100 on Linux
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs, rssMb: Math.round(rssKb / 102.4) / 10 };
  } catch {
    return undefined;
  }
}

/** --cpu-prof for the registry and rebuild processes when asked (--registry-cpu-prof <dir>). */
function registryProfArgs(): string[] {
  const at = process.argv.indexOf('--registry-cpu-prof');
  const dir = at >= 0 ? process.argv[at + 1] : undefined;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

class RegistryProcess {
  private constructor(readonly child: ChildProcess) {}

  static async start(env: NodeJS.ProcessEnv, nc: NatsConnection, subjectRoot: string): Promise<RegistryProcess> {
    // As `fleetvisor up` starts the registry (its young generation of 2 x 32 MB), plus the bench's own flags.
    const app = fleetvisorProcess(['worker-registry', 'run', '--no-relay'], ['--max-semi-space-size=32']);
    const child = spawn(app.file, [...(process.argv.includes('--registry-gc') ? ['--expose-gc'] : []), ...registryProfArgs(), ...app.argv], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.includes('worker registry stats')) progress(`registry: ${line.replace(/^.*"workers"/, '"workers"').slice(0, 360)}`);
    });
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      err = (err + text).slice(-4000);
      for (const line of text.split('\n')) if (line.includes('worker registry stats')) progress(`registry: ${line.slice(0, 300)}`);
    });
    const subjects = createSubjects(subjectRoot);
    const bus = new CommandBus({ nc, subjects, logger: createLogger({ name: 'bench', level: 'silent', format: 'json', stream: 'stderr' }) });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`worker-registry exited with ${child.exitCode}: ${err}`);
      const r = await bus.request(WorkerList, {}, { timeoutMs: 1_000 });
      if (r.ok) break;
      if (Date.now() > deadline) throw new Error(`worker-registry did not answer within 60 s: ${err}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    return new RegistryProcess(child);
  }

  stat() {
    return procStat(this.child.pid!);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
}

// ---- phases 1 and 2 ----

interface LoadPhaseResult {
  phase: string;
  reportIntervalMs: number;
  seconds: number;
  offeredPerSec: number;
  reportsPerSec: number;
  failed: number;
  skipped: number;
  transitionsPerSec: number;
  roundTripP50Ms: number;
  roundTripP99Ms: number;
  visibleP50Ms: number;
  visibleP99Ms: number;
  visibleSamples: number;
  listAllMs: number;
  registryCpuPct: number;
  /** CPU of this process (the simulated workers and the prober), % of one core. */
  loadProcessCpuPct: number;
  /** CPU of the postgres processes (backends, checkpointer, WAL writer: the whole server), % of one core; a backend that ended during the phase is left out. */
  postgresCpuPct: number;
  /** CPU of the NATS server, % of one core. */
  natsCpuPct: number;
  registryRssMb: number;
  registryPeakRssMb: number;
}

const pct = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
const round1 = (x: number) => Math.round(x * 10) / 10;

async function loadPhase(
  phase: string,
  opts: Options,
  reportIntervalMs: number,
  seconds: number,
  bus: CommandBus,
  nc: NatsConnection,
  subjectRoot: string,
  registry: RegistryProcess,
  seed: number,
  dbUrl: string,
): Promise<LoadPhaseResult> {
  // Visibility prober: every 50th report sent starts a probe (at most 4 at a time) that asks the
  // registry for that worker every 10 ms until its LastPing is at or after the send time.
  const sentAt = new Map<string, number>();
  const visible: number[] = [];
  let probing = false;
  let probes = 0;
  let sends = 0;
  const probe = async (name: string, sent: number): Promise<void> => {
    probes++;
    try {
      for (;;) {
        const r = await bus.request(WorkerInfo, { worker: name }, { timeoutMs: 10_000 });
        if (r.ok && Date.parse(r.result!.worker.lastPing) >= sent) {
          if (probing) visible.push(Date.now() - sent);
          return;
        }
        if (Date.now() - sent > 30_000) return;
        await new Promise((res) => setTimeout(res, 10));
      }
    } finally {
      probes--;
    }
  };
  // The reports go as plain NATS request-reply, the message a worker-agent sends (see natsReportSender:
  // the same bytes as CommandBus.request without its per-request timer and stack capture).
  const reportSubjects = createSubjects(subjectRoot);
  const sender = natsReportSender(nc, (r) => reportSubjects.scopedCommand(WorkerReportCommand.service, WorkerReportCommand.verb, r.name), { timeoutMs: 30_000 });
  const send = (r: WorkerReport) => {
    const t = Date.now();
    sentAt.set(r.name, t);
    if (probing && ++sends % 50 === 0 && probes < 4) void probe(r.name, t);
    return sender(r);
  };
  const load = new SealingLoad({
    send,
    workers: opts.workers,
    threadsPerWorker: opts.threads,
    reportIntervalMs,
    namePrefix: 'load-w',
    seed,
    maxInFlight: 4_000,
  });
  load.start();
  // Warm-up: every worker has registered (its first report records all its threads), then a few seconds more.
  progress(`${phase}: ${opts.workers} workers x ${opts.threads} threads, one report each per ${reportIntervalMs} ms; warming up`);
  const warmStart = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 1_000));
    const s = load.stats();
    const registered = new Set([...sentAt.keys()]).size;
    progress(`${phase}: warm-up ${Math.round((Date.now() - warmStart) / 1000)} s: ${s.ok} reports answered, ${s.failed} failed, ${s.inFlight} in flight, ${registered} workers reported`);
    if (s.ok >= opts.workers && registered >= opts.workers) break;
    if (Date.now() - warmStart > 120_000) throw new Error(`${phase}: workers did not all register within 120 s`);
  }
  // Every worker of a phase reports with a new boot id, so the first reports are a fleet-restart
  // storm (each worker re-records all 16 threads: ~80,000 events within two seconds), not the
  // sustained load the targets are about: measuring starts once the registry has worked it off
  // (twice in a row: reports in flight below a tenth of a second's worth, and its projection fewer
  // than 2,000 events behind the log, about a second and a half of the stress phase's appends; the
  // storm put ~80,000 events in the log at once), then warmupSeconds more.
  const offeredPerSec = (opts.workers * 1_000) / reportIntervalMs;
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  try {
    for (let calm = 0; calm < 2; ) {
      await new Promise((r) => setTimeout(r, 500));
      const lag = await db.query<{ lag: string | null }>(
        `SELECT (SELECT max(global_position) FROM fv_events) - split_part(checkpoint, ':', 2)::bigint AS lag FROM fv_checkpoints WHERE name = 'projection:worker-registry'`,
      );
      const behind = Number(lag.rows[0]?.lag ?? Infinity);
      calm = load.stats().inFlight <= offeredPerSec / 10 && behind < 2_000 ? calm + 1 : 0;
      if (Date.now() - warmStart > 120_000) throw new Error(`${phase}: the registry did not work off the first reports within 120 s (projection ${behind} events behind)`);
    }
  } finally {
    await db.end();
  }
  progress(`${phase}: storm of first reports worked off after ${Math.round((Date.now() - warmStart) / 1000)} s; ${opts.warmupSeconds} s more, then measuring`);
  await new Promise((r) => setTimeout(r, opts.warmupSeconds * 1_000));
  const s0 = load.stats();
  const p0 = registry.stat();
  const c0 = process.cpuUsage();
  const pg0 = processesCpu('postgres');
  const nats0 = processesCpu('nats-server');
  const t0 = performance.now();
  let peakRss = p0?.rssMb ?? 0;
  const rssTimer = setInterval(() => {
    const s = registry.stat();
    if (s && s.rssMb > peakRss) peakRss = s.rssMb;
  }, 250);

  probing = true;
  await new Promise((r) => setTimeout(r, seconds * 1_000));
  // What `fleetvisor worker list` does: every page, in name order.
  const lt0 = performance.now();
  let listed = 0;
  let after: string | undefined;
  for (;;) {
    const page = await bus.request(WorkerListPage, after === undefined ? {} : { after }, { timeoutMs: 30_000 });
    if (!page.ok) throw new Error(`${phase}: worker list failed: ${page.error.code}: ${page.error.message}`);
    listed += page.result!.workers.filter((w) => w.name.startsWith('load-w')).length;
    if (page.result!.next === undefined) break;
    after = page.result!.next;
  }
  const listAllMs = Math.round(performance.now() - lt0);
  if (listed !== opts.workers) throw new Error(`${phase}: worker list shows ${listed} of ${opts.workers} workers`);
  const s1: LoadStats = load.stats();
  const p1 = registry.stat();
  const c1 = process.cpuUsage(c0);
  const pgMs = cpuMsSince('postgres', pg0);
  const natsMs = cpuMsSince('nats-server', nats0);
  const wall = (performance.now() - t0) / 1000;
  probing = false;
  clearInterval(rssTimer);
  while (probes > 0) await new Promise((r) => setTimeout(r, 20));
  await load.stop();
  sender.close();
  visible.sort((a, b) => a - b);
  const result: LoadPhaseResult = {
    phase,
    reportIntervalMs,
    seconds: round1(wall),
    offeredPerSec: Math.round(offeredPerSec),
    reportsPerSec: Math.round((s1.ok - s0.ok) / wall),
    failed: s1.failed - s0.failed,
    skipped: s1.skipped - s0.skipped,
    transitionsPerSec: Math.round((s1.transitionsAcked - s0.transitionsAcked) / wall),
    roundTripP50Ms: round1(s1.latencyMs.p50),
    roundTripP99Ms: round1(s1.latencyMs.p99),
    visibleP50Ms: pct(visible, 50),
    visibleP99Ms: pct(visible, 99),
    visibleSamples: visible.length,
    listAllMs,
    registryCpuPct: p0 && p1 ? Math.round(((p1.cpuMs - p0.cpuMs) / (wall * 1000)) * 100) : -1,
    loadProcessCpuPct: Math.round(((c1.user + c1.system) / 1000 / (wall * 1000)) * 100),
    postgresCpuPct: Math.round((pgMs / (wall * 1000)) * 100),
    natsCpuPct: Math.round((natsMs / (wall * 1000)) * 100),
    registryRssMb: p1?.rssMb ?? -1,
    registryPeakRssMb: peakRss,
  };
  progress(`${phase}: ${JSON.stringify(result)}`);
  return result;
}

// ---- bridge mode: a change on the worker -> visible in the registry ----

interface BridgePhaseResult {
  workers: number;
  changes: number;
  /** Changes the endpoint refused (a pause of a thread that was not running): not timed. */
  refused: number;
  visibleP50Ms: number;
  visibleP99Ms: number;
  visibleMaxMs: number;
  agentPollMs: number;
  heartbeatMs: number;
}

/** One VenusWorker JSON-RPC call, as damocles-worker's own CLI makes it. */
async function venusWorkerCall(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function bridgePhase(opts: Options, env: NodeJS.ProcessEnv, bus: CommandBus): Promise<BridgePhaseResult> {
  const threads = 4;
  const sims: SimulatedWorker[] = [];
  const rpcs: VenusWorkerRpcServer[] = [];
  const agents: ChildProcess[] = [];
  const names = Array.from({ length: opts.bridgeWorkers }, (_, i) => `bridge-w${i + 1}`);
  const info = async (name: string) => {
    const r = await bus.request(WorkerInfo, { worker: name }, { timeoutMs: 5_000 });
    return r.ok ? r.result! : undefined;
  };
  try {
    for (const [i, name] of names.entries()) {
      // Steps of an hour: nothing moves on its own, only the changes made below.
      const sim = new SimulatedWorker({ threads, stepMs: 3_600_000, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer'], seed: 100 + i });
      sim.start(50);
      sims.push(sim);
      const rpc = await startVenusWorkerRpcServer({ worker: sim });
      rpcs.push(rpc);
      // The agent's defaults, written out: bridge poll 1 s, heartbeat 10 s.
      const app = fleetvisorProcess(['worker-agent', 'run']);
      const child = spawn(app.file, app.argv, {
        env: { ...env, FLEETVISOR_LOG_LEVEL: 'warn', FLEETVISOR_WORKER_NAME: name, FLEETVISOR_WORKER_SOURCE: 'bridge', FLEETVISOR_WORKER_ADMIN_URL: rpc.url, FLEETVISOR_WORKER_DEST: rpc.dest, FLEETVISOR_WORKER_BRIDGE_POLL: '1s', FLEETVISOR_WORKER_REPORT_INTERVAL: '10s' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
      child.once('exit', (code) => {
        if (code !== 0 && code !== null) progress(`bridge: agent ${name} exited with ${code}: ${err}`);
      });
      agents.push(child);
    }
    progress(`bridge: ${names.length} workers x ${threads} threads bridged by worker-agent processes; waiting for them to register`);
    const deadline = Date.now() + 60_000;
    for (const name of names) {
      while ((await info(name))?.threads.length !== threads) {
        if (Date.now() > deadline) throw new Error(`bridge: ${name} did not register within 60 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const times: number[] = [];
    let refused = 0;
    const paused = names.map(() => new Array<boolean>(threads).fill(false));
    for (let c = 0; c < opts.bridgeChanges; c++) {
      // A pause between changes that does not follow the agent's poll period, so the changes land
      // at every point of it.
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 700)));
      const w = c % names.length;
      const t = Math.floor(c / names.length) % threads;
      const pause = !paused[w]![t];
      const at = performance.now();
      const done = await venusWorkerCall(rpcs[w]!.url, pause ? 'VenusWorker.WorkerPause' : 'VenusWorker.WorkerResume', pause ? [t] : [t, null]);
      if (done !== true) {
        refused++;
        continue;
      }
      paused[w]![t] = pause;
      for (;;) {
        const th = (await info(names[w]!))?.threads[t];
        if (th && (th.threadState === 'paused') === pause) break;
        if (performance.now() - at > 30_000) throw new Error(`bridge: a ${pause ? 'pause' : 'resume'} of ${names[w]} #${t} was not visible within 30 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      times.push(Math.round(performance.now() - at));
      if ((c + 1) % 10 === 0) progress(`bridge: ${c + 1}/${opts.bridgeChanges} changes`);
    }
    times.sort((a, b) => a - b);
    const result: BridgePhaseResult = {
      workers: names.length,
      changes: times.length,
      refused,
      visibleP50Ms: pct(times, 50),
      visibleP99Ms: pct(times, 99),
      visibleMaxMs: times.at(-1) ?? 0,
      agentPollMs: 1_000,
      heartbeatMs: 10_000,
    };
    progress(`bridge: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await Promise.all(
      agents.map(async (a) => {
        if (a.exitCode !== null || a.signalCode !== null) return;
        const exited = new Promise((r) => a.once('exit', r));
        a.kill('SIGTERM');
        await exited;
      }),
    );
    for (const sim of sims) sim.stop();
    for (const rpc of rpcs) await rpc.close();
  }
}

// ---- phase 3: rebuild ----

/** The sealer flow as a cycle of transitions (Empty -> ... -> Finished -> Empty). */
const FLOW = SEALER_STATES.filter((s) => s !== 'Aborted' && s !== 'SyntheticPoRepNeeded');

async function seedRebuildLog(url: string, transitions: number, threads: number): Promise<{ events: number; seconds: number }> {
  const conn = await openEventStore(url, { migrate: true, migrations: WORKER_REGISTRY_MIGRATIONS, poolSize: 6 });
  const t0 = performance.now();
  const workers = Math.max(1, Math.round(transitions / (threads * 12)));
  const perWorker = Math.ceil(transitions / workers);
  let written = 0;
  try {
    const base = Date.parse('2026-01-01T00:00:00.000Z');
    const jobs: (() => Promise<void>)[] = [];
    for (let w = 0; w < workers; w++) {
      jobs.push(async () => {
        const name = `rb-w${String(w).padStart(5, '0')}`;
        const state = new Array<number>(threads).fill(0);
        let batch: EventEnvelope[] = [newEventFor(WorkerRegistered, { name, dest: `10.9.${w >> 8}.${w & 255}:17890`, version: '0.11.0', threads }, {}, { occurredAt: new Date(base) })];
        for (let i = 0; i < perWorker && written < transitions; i++) {
          const index = i % threads;
          const prev = FLOW[state[index]!]!;
          state[index] = (state[index]! + 1) % FLOW.length;
          const next = FLOW[state[index]!]!;
          const sector = `s-t01000-${w * 1_000_000 + Math.floor(i / (threads * FLOW.length)) * threads + index}`;
          batch.push(
            newEventFor(
              ThreadStateChanged,
              { worker: name, index, plan: 'sealer', prev, next, location: `/data/store${index}`, ...(next === 'Empty' ? {} : { sectorId: sector }), event: 'bench' },
              { causationId: `transition:00000000-0000-4000-8000-${String(w).padStart(12, '0')}:${i + 1}` },
              { occurredAt: new Date(base + i * 1_000) },
            ),
          );
          written++;
          if (batch.length >= 2_000) {
            await conn.store.appendToStream(`worker-${name}`, batch);
            batch = [];
          }
        }
        if (batch.length > 0) await conn.store.appendToStream(`worker-${name}`, batch);
      });
    }
    // Four writers side by side.
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
  } finally {
    await conn.close();
  }
  return { events: written, seconds: round1((performance.now() - t0) / 1000) };
}

async function runRebuild(env: NodeJS.ProcessEnv, batchSize: number): Promise<{ processed: number; durationMs: number; eventsPerSec: number; peakRssMb: number; cpuSeconds: number }> {
  // `fleetvisor worker-registry rebuild` with a 2 x 64 MB young generation, as docs/operations.md advises
  // for a large rebuild (each batch's parsed JSON dies with the batch).
  const app = fleetvisorProcess(['worker-registry', 'rebuild', '--json', '--batch-size', String(batchSize)], ['--max-semi-space-size=64']);
  const child = spawn(app.file, [...registryProfArgs(), ...app.argv], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let peak = 0;
  // CPU of the rebuild process (start-up included), last sampled before it exits.
  let cpuMs = 0;
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const timer = setInterval(() => {
    const s = procStat(child.pid!);
    if (s && s.rssMb > peak) peak = s.rssMb;
    if (s) cpuMs = s.cpuMs;
  }, 100);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearInterval(timer);
  if (code !== 0) throw new Error(`worker-registry rebuild exited with ${code}: ${err}`);
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as { processed: number; durationMs: number };
  return {
    processed: result.processed,
    durationMs: result.durationMs,
    eventsPerSec: Math.round(result.processed / (result.durationMs / 1000)),
    peakRssMb: peak,
    cpuSeconds: round1(cpuMs / 1000),
  };
}

// ---- main ----

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const tag = randomBytes(3).toString('hex');
  const subjectRoot = `bench_wr_${tag}`;
  const streamName = `BENCH_WR_${tag.toUpperCase()}_EVENTS`;
  const dbs: TestDatabase[] = [];
  // No async stack traces: nats.js would capture an Error per request (the probes ask every 10 ms).
  const nc = await connect({ servers: sharedNatsUrl(), name: 'bench-worker-registry', noAsyncTraces: true });
  let registry: RegistryProcess | undefined;
  const cleanup = async () => {
    await registry?.stop().catch(() => undefined);
    const jsm = await nc.jetstreamManager();
    for (const s of [streamName, `${streamName}_DLQ`]) await jsm.streams.delete(s).catch(() => undefined);
    for (const d of dbs) await d.drop().catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const noCheckpoint = await checkpointFirst(adminDatabaseUrl());
    if (noCheckpoint) progress(noCheckpoint);
    const db = await createTestDatabase('bench_wr');
    dbs.push(db);
    const load0 = await loadSnapshot(adminDatabaseUrl(), [db.name]);
    const env: NodeJS.ProcessEnv = {
      // eslint-disable-next-line no-restricted-syntax -- the registry process inherits PATH, HOME
      ...process.env,
      FLEETVISOR_DATABASE_URL: db.url,
      FLEETVISOR_NATS_URL: sharedNatsUrl(),
      FLEETVISOR_SUBJECT_ROOT: subjectRoot,
      FLEETVISOR_EVENT_STREAM: streamName,
      FLEETVISOR_LOG_LEVEL: 'info',
      FLEETVISOR_WORKER_REGISTRY_STATS_INTERVAL: '2s',
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_WORKER_EXPIRATION: '10m',
      FLEETVISOR_WORKER_REGISTRY_POOL_SIZE: String(opts.pool),
    };
    // Streams belong to migrate; the registry only checks them.
    await createTestStreams({ subjectRoot, eventStreamName: streamName, natsUrl: sharedNatsUrl() });
    progress(`starting the registry process (database ${db.name}, subjects ${subjectRoot}.*)`);
    registry = await RegistryProcess.start(env, nc, subjectRoot);
    const bus = new CommandBus({ nc, subjects: createSubjects(subjectRoot), logger: createLogger({ name: 'bench', level: 'silent', format: 'json', stream: 'stderr' }) });

    const nominal = await loadPhase('nominal', opts, 10_000, opts.nominalSeconds, bus, nc, subjectRoot, registry, 1, db.url);
    if (process.argv.includes('--stop-after-nominal')) throw new Error('stopped after nominal (--stop-after-nominal)');
    const stress = await loadPhase('stress', opts, opts.stressIntervalMs, opts.stressSeconds, bus, nc, subjectRoot, registry, 2, db.url);
    const bridge = await bridgePhase(opts, env, bus);
    await registry.stop();
    registry = undefined;

    const rdb = await createTestDatabase('bench_wr_rebuild');
    dbs.push(rdb);
    progress(`rebuild: appending ${opts.rebuildTransitions.toLocaleString('en-US')} thread transitions`);
    const seeded = await seedRebuildLog(rdb.url, opts.rebuildTransitions, opts.threads);
    progress(`rebuild: seeded ${seeded.events} transitions in ${seeded.seconds} s; rebuilding`);
    const rebuild = await runRebuild({ ...env, FLEETVISOR_DATABASE_URL: rdb.url }, opts.rebuildBatch);
    progress(`rebuild: ${JSON.stringify(rebuild)}`);

    const targets = [
      { metric: 'sustained reports/s (stress)', target: '>= 5000', value: stress.reportsPerSec, pass: stress.reportsPerSec >= 5_000 },
      { metric: 'p99 report -> visible (stress), ms', target: '<= 250', value: stress.visibleP99Ms, pass: stress.visibleP99Ms <= 250 },
      { metric: 'p99 report -> visible (nominal), ms', target: '<= 250', value: nominal.visibleP99Ms, pass: nominal.visibleP99Ms <= 250 },
      { metric: 'registry peak RSS, MB', target: '<= 300', value: Math.max(nominal.registryPeakRssMb, stress.registryPeakRssMb), pass: Math.max(nominal.registryPeakRssMb, stress.registryPeakRssMb) <= 300 },
      { metric: 'p99 change on a bridged worker -> visible, ms', target: '<= 1500', value: bridge.visibleP99Ms, pass: bridge.visibleP99Ms <= 1_500 },
      {
        metric: `rebuild of ${rebuild.processed.toLocaleString('en-US')} events, s`,
        target: opts.rebuildTransitions >= 1_000_000 ? '<= 10' : '(not judged below 1M)',
        value: round1(rebuild.durationMs / 1000),
        pass: opts.rebuildTransitions >= 1_000_000 ? rebuild.durationMs <= 10_000 : true,
      },
    ];
    process.stderr.write(
      '\n' +
        textTable(
          ['phase', 'offered/s', 'reports/s', 'transitions/s', 'rtt p50/p99 ms', 'visible p50/p99 ms', 'list all ms', 'CPU % registry / load / pg / nats', 'RSS / peak MB', 'failed'],
          [nominal, stress].map((p) => [
            p.phase,
            String(p.offeredPerSec),
            String(p.reportsPerSec),
            String(p.transitionsPerSec),
            `${p.roundTripP50Ms} / ${p.roundTripP99Ms}`,
            `${p.visibleP50Ms} / ${p.visibleP99Ms} (${p.visibleSamples})`,
            String(p.listAllMs),
            `${p.registryCpuPct} / ${p.loadProcessCpuPct} / ${p.postgresCpuPct} / ${p.natsCpuPct}`,
            `${p.registryRssMb} / ${p.registryPeakRssMb}`,
            String(p.failed),
          ]),
        ) +
        '\n' +
        textTable(
          ['bridge', 'workers', 'changes timed', 'refused', 'visible p50 / p99 / max ms', 'agent poll / heartbeat ms'],
          [['bridge', String(bridge.workers), String(bridge.changes), String(bridge.refused), `${bridge.visibleP50Ms} / ${bridge.visibleP99Ms} / ${bridge.visibleMaxMs}`, `${bridge.agentPollMs} / ${bridge.heartbeatMs}`]],
        ) +
        '\n' +
        textTable(['target', 'wanted', 'measured', ''], targets.map((t) => [t.metric, t.target, String(t.value), t.pass ? 'PASS' : 'FAIL'])) +
        '\n',
    );
    emitResult({
      bench: 'worker-registry',
      quick: opts.quick,
      machine: await machineInfo(adminDatabaseUrl()),
      load: { before: load0, after: await loadSnapshot(adminDatabaseUrl(), dbs.map((d) => d.name)) },
      workers: opts.workers,
      threadsPerWorker: opts.threads,
      reportsPerSec: stress.reportsPerSec,
      p99VisibleMs: stress.visibleP99Ms,
      rssMb: Math.max(nominal.registryPeakRssMb, stress.registryPeakRssMb),
      rebuildEventsPerSec: rebuild.eventsPerSec,
      nominal,
      stress,
      bridge,
      rebuild: { ...rebuild, seededTransitions: seeded.events, seedSeconds: seeded.seconds },
      targets,
      pass: targets.every((t) => t.pass),
      seconds: Math.round((performance.now() - started) / 1000),
    });
  } finally {
    await cleanup();
    await nc.close();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
