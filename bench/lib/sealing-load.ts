// A load generator for the worker-registry: many simulated sealing workers in one process, each
// sending WorkerReportCommand (fleet.cmd.worker-registry.report) every interval with every thread
// and the transitions since its last acknowledged report — what real worker-agents send.
//
// Cheap on CPU: no timer per worker or thread. One timer ticks (default every 100 ms); workers
// report at phases spread evenly over the interval, kept in a ring, so a tick touches only the
// workers due. A worker's threads are advanced lazily when it reports (SimulatedWorker.advance),
// so 5,000 × 16 threads cost a few ms of CPU per tick.
//
//   const bus = new CommandBus({ nc, subjects, logger });
//   const load = new SealingLoad({ workers: 5000, send: commandBusReportSender(bus) });
//   load.start();  ...  const s = load.stats();  await load.stop();
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  WorkerReportCommand,
  type CommandReply,
  type CommandResultOf,
  type ThreadTransition,
  type WorkerReport,
} from '@fleetvisor/contracts';
import type { CommandBus } from '@fleetvisor/messaging';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { seedFromString, SimulatedWorker, systemClock, type SealingClock, type SimTransition, type SimulatedPlan } from '@fleetvisor/devnet';

export type ReportReply = CommandReply<CommandResultOf<typeof WorkerReportCommand>>;
export type ReportSender = (report: WorkerReport) => Promise<ReportReply>;

export interface SealingLoadOptions {
  /** Sends one report and resolves with the registry's reply (see commandBusReportSender). */
  send: ReportSender;
  /** Number of simulated workers; default 5000. */
  workers?: number;
  /** Sealing threads per worker; default 16. */
  threadsPerWorker?: number;
  /** Each worker reports this often, ms; default 10 000. */
  reportIntervalMs?: number;
  /** Worker names are `<namePrefix><5-digit number>`, from 1; default 'load-w'. */
  namePrefix?: string;
  /** A worker's dest; default `10.<a>.<b>.<c>:17890` derived from its number. */
  dest?: (name: string, n: number) => string;
  /** Worker software version reported; default '0.11.0-sim'. */
  version?: string;
  /** Mean time per sealing step, ms; default 60 000 (each thread changes state about once a minute). */
  stepMs?: number;
  /** See SimulatedWorkerOptions; defaults 0.2, 0.01, 0.0005, 0. */
  jitter?: number;
  temporaryErrorRate?: number;
  permanentErrorRate?: number;
  abortRate?: number;
  plans?: readonly SimulatedPlan[];
  /** Seed; worker n uses a seed derived from this and its name. Default 1. */
  seed?: number;
  /** Scheduler tick, ms; default 100. */
  tickMs?: number;
  /** Reports in flight at most; a worker due while the limit is reached is skipped this round. Default 2000. */
  maxInFlight?: number;
  /** Transitions kept per worker while the registry does not acknowledge them; oldest dropped beyond. Default 10 000. */
  maxPendingTransitions?: number;
  /** Transitions per report at most (the rest go in the next one); default 5000. */
  maxTransitionsPerReport?: number;
  /** Where time comes from for the simulation (latency is always measured on the wall clock). */
  clock?: SealingClock;
  /** Called after every report's reply (or failure). */
  onReport?: (r: LoadReportResult) => void;
}

export interface LoadReportResult {
  name: string;
  report: WorkerReport;
  ok: boolean;
  /** Round trip, ms (wall clock). */
  latencyMs: number;
  /** The registry's reply when ok. */
  result?: CommandResultOf<typeof WorkerReportCommand>;
  /** Error code and message otherwise. */
  error?: { code: string; message: string };
}

export interface LoadStats {
  workers: number;
  threads: number;
  /** Reports sent, answered ok, failed (error reply, timeout, unreachable), skipped (still in flight). */
  sent: number;
  ok: number;
  failed: number;
  skipped: number;
  inFlight: number;
  /** Transitions generated, and sent in a report the registry acknowledged. */
  transitions: number;
  transitionsAcked: number;
  /** Transitions dropped because a worker's pending list was full. */
  transitionsDropped: number;
  /** Round-trip latency of answered reports over the last 100 000, ms. */
  latencyMs: { p50: number; p99: number; max: number; count: number };
  /** Since start(), wall clock. */
  elapsedMs: number;
  reportsPerSec: number;
}

interface LoadWorker {
  readonly n: number;
  readonly name: string;
  readonly dest: string;
  readonly sim: SimulatedWorker;
  readonly bootId: string;
  nextSeq: number;
  pending: ThreadTransition[];
  nextReportAt: number;
  inFlight: boolean;
}

const LATENCY_SAMPLES = 100_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export class SealingLoad {
  private readonly opts: Required<
    Omit<SealingLoadOptions, 'dest' | 'onReport' | 'plans' | 'jitter' | 'temporaryErrorRate' | 'permanentErrorRate' | 'abortRate' | 'clock'>
  >;
  private readonly onReport: SealingLoadOptions['onReport'];
  private readonly clock: SealingClock;
  private readonly workers: LoadWorker[] = [];
  private cursor = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** Reports sent and not settled yet; stop() waits for them (idleWaiters). */
  private inFlightCount = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly latencies: number[] = [];
  private latencyPos = 0;
  private counters = { sent: 0, ok: 0, failed: 0, skipped: 0, transitions: 0, transitionsAcked: 0, transitionsDropped: 0 };

  constructor(options: SealingLoadOptions) {
    this.opts = {
      send: options.send,
      workers: options.workers ?? 5_000,
      threadsPerWorker: options.threadsPerWorker ?? 16,
      reportIntervalMs: options.reportIntervalMs ?? 10_000,
      namePrefix: options.namePrefix ?? 'load-w',
      version: options.version ?? '0.11.0-sim',
      stepMs: options.stepMs ?? 60_000,
      seed: options.seed ?? 1,
      tickMs: options.tickMs ?? 100,
      maxInFlight: options.maxInFlight ?? 2_000,
      maxPendingTransitions: options.maxPendingTransitions ?? 10_000,
      maxTransitionsPerReport: options.maxTransitionsPerReport ?? 5_000,
    };
    const o = this.opts;
    if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 1_000_000) throw new Error(`SealingLoad: workers must be 1..1000000, got ${o.workers}`);
    if (!(o.reportIntervalMs >= 1)) throw new Error(`SealingLoad: reportIntervalMs must be >= 1, got ${o.reportIntervalMs}`);
    if (!(o.tickMs >= 1)) throw new Error(`SealingLoad: tickMs must be >= 1, got ${o.tickMs}`);
    if (o.maxTransitionsPerReport < 1 || o.maxTransitionsPerReport > 100_000) throw new Error('SealingLoad: maxTransitionsPerReport must be 1..100000');
    this.onReport = options.onReport;
    this.clock = options.clock ?? systemClock;
    const now = this.clock.now();
    const dest = options.dest ?? ((_name: string, n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}:17890`);
    let sectorNumber = 0;
    const nextSectorNumber = () => ++sectorNumber;
    for (let n = 1; n <= o.workers; n++) {
      const name = `${o.namePrefix}${String(n).padStart(5, '0')}`;
      const sim = new SimulatedWorker({
        threads: o.threadsPerWorker,
        stepMs: o.stepMs,
        jitter: options.jitter ?? 0.2,
        temporaryErrorRate: options.temporaryErrorRate ?? 0.01,
        permanentErrorRate: options.permanentErrorRate ?? 0.0005,
        abortRate: options.abortRate ?? 0,
        ...(options.plans ? { plans: options.plans } : {}),
        seed: seedFromString(name, o.seed),
        clock: this.clock,
        nextSectorNumber,
        version: o.version,
      });
      const w: LoadWorker = {
        n,
        name,
        dest: dest(name, n),
        sim,
        bootId: randomUUID(),
        nextSeq: 1,
        pending: [],
        // Phases spread evenly over one interval; worker 1 reports first.
        nextReportAt: now + Math.floor(((n - 1) * o.reportIntervalMs) / o.workers),
        inFlight: false,
      };
      sim.onTransition((t) => this.record(w, t));
      this.workers.push(w);
    }
  }

  /** Names of the simulated workers, in report order. */
  get names(): string[] {
    return this.workers.map((w) => w.name);
  }

  /** The simulated worker behind a name (tests compare its threads with the registry's). */
  worker(name: string): SimulatedWorker | undefined {
    return this.workers.find((w) => w.name === name)?.sim;
  }

  start(): void {
    if (this.timer) return;
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
  }

  /** Stops reporting and waits for the reports in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.inFlightCount > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  /** Sends the reports due by `now` (start() calls it every tickMs). Returns how many were sent. */
  tick(now = this.clock.now()): number {
    if (this.startedAt === 0) this.startedAt = performance.now();
    let fired = 0;
    // Every worker is due at most once per tick; the ring is ordered by nextReportAt.
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[this.cursor]!;
      if (w.nextReportAt > now) break;
      w.nextReportAt += this.opts.reportIntervalMs;
      this.cursor = (this.cursor + 1) % this.workers.length;
      if (w.inFlight || this.inFlightCount >= this.opts.maxInFlight) {
        this.counters.skipped++;
        continue;
      }
      this.report(w, now);
      fired++;
    }
    return fired;
  }

  stats(): LoadStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const elapsedMs = this.startedAt === 0 ? 0 : performance.now() - this.startedAt;
    return {
      workers: this.workers.length,
      threads: this.workers.length * this.opts.threadsPerWorker,
      ...this.counters,
      inFlight: this.inFlightCount,
      latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0, count: sorted.length },
      elapsedMs,
      reportsPerSec: elapsedMs > 0 ? (this.counters.ok * 1000) / elapsedMs : 0,
    };
  }

  private record(w: LoadWorker, t: SimTransition): void {
    const tr: ThreadTransition = { seq: w.nextSeq++, index: t.index, plan: t.plan, location: t.location, prev: t.prev, next: t.next, event: t.event, at: new Date(t.at).toISOString() };
    if (t.sectorId !== undefined) tr.sectorId = t.sectorId;
    if (t.failure) tr.failure = t.failure;
    w.pending.push(tr);
    this.counters.transitions++;
    if (w.pending.length > this.opts.maxPendingTransitions) {
      w.pending.shift();
      this.counters.transitionsDropped++;
    }
  }

  private report(w: LoadWorker, now: number): void {
    w.sim.advance(now);
    const transitions = w.pending.slice(0, this.opts.maxTransitionsPerReport);
    const report: WorkerReport = {
      name: w.name,
      dest: w.dest,
      version: this.opts.version,
      bootId: w.bootId,
      sentAt: new Date(now).toISOString(),
      threads: w.sim.threadInfos(),
      transitions,
    };
    w.inFlight = true;
    this.counters.sent++;
    this.inFlightCount++;
    const t0 = performance.now();
    // One settle callback per report (no catch/then/finally chain): at 5,000 reports/s the
    // generator shares the machine with the registry it measures.
    let sent: Promise<ReportReply>;
    try {
      sent = this.opts.send(report);
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent.then(
      (reply) => this.settle(w, report, t0, reply),
      (e: unknown) => this.settle(w, report, t0, { ok: false, error: { code: 'unavailable', message: e instanceof Error ? e.message : String(e) } }),
    );
  }

  private settle(w: LoadWorker, report: WorkerReport, t0: number, reply: ReportReply): void {
    const latencyMs = performance.now() - t0;
    w.inFlight = false;
    try {
      if (reply.ok && reply.result) {
        this.counters.ok++;
        this.sampleLatency(latencyMs);
        const accepted = reply.result.acceptedSeq;
        if (w.pending.length > 0 && w.pending[0]!.seq <= accepted) {
          const before = w.pending.length;
          w.pending = w.pending.filter((tr) => tr.seq > accepted);
          this.counters.transitionsAcked += before - w.pending.length;
        }
        this.onReport?.({ name: w.name, report, ok: true, latencyMs, result: reply.result });
      } else {
        this.counters.failed++;
        const error = reply.ok ? { code: 'internal', message: 'reply without a result' } : reply.error;
        this.onReport?.({ name: w.name, report, ok: false, latencyMs, error });
      }
    } finally {
      this.inFlightCount--;
      if (this.inFlightCount === 0) for (const r of this.idleWaiters.splice(0)) r();
    }
  }

  private sampleLatency(ms: number): void {
    if (this.latencies.length < LATENCY_SAMPLES) this.latencies.push(ms);
    else {
      this.latencies[this.latencyPos] = ms;
      this.latencyPos = (this.latencyPos + 1) % LATENCY_SAMPLES;
    }
  }
}

/**
 * Sends reports with a CommandBus. By default the request is not validated against the schema on
 * the sending side (the registry validates it; this keeps the generator cheap); `validate: true`
 * checks each report first.
 */
export function commandBusReportSender(bus: CommandBus, opts: { timeoutMs?: number; validate?: boolean } = {}): ReportSender {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  if (opts.validate) return (report) => bus.request(WorkerReportCommand, report, { timeoutMs, scope: report.name });
  const ref = { service: WorkerReportCommand.service, verb: WorkerReportCommand.verb };
  return async (report) => (await bus.request(ref, report, { timeoutMs, scope: report.name })) as ReportReply;
}

export interface NatsReportSenderOptions {
  /** A report not answered within this is failed with `timeout`; default 10 000 ms. */
  timeoutMs?: number;
  /** How often overdue requests are looked for; default 100 ms. */
  sweepMs?: number;
}

/** A ReportSender that can be closed (its reply subscription and timer). */
export interface ClosableReportSender extends ReportSender {
  close(): void;
}

/**
 * Sends reports as plain NATS request-reply on `subject` (the registry's
 * `<root>.cmd.worker-registry.report.<worker>`: a function of the report), the same message a worker-agent sends: the report as JSON,
 * a reply subject, the registry's CommandReply as JSON back. What it saves over CommandBus.request
 * (nats.js `request`) is the generator's own CPU: that path builds an Error per request for async
 * stack traces, a timer per request and several promises; here one wildcard reply subscription
 * serves every request (replies matched by a counter token), one interval times out overdue
 * requests, and a reply costs one JSON.parse. A `503` status reply (no registry subscribed) is
 * `unavailable`, as with CommandBus.
 */
export function natsReportSender(nc: NatsConnection, subject: string | ((report: WorkerReport) => string), opts: NatsReportSenderOptions = {}): ClosableReportSender {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const inbox = `_INBOX.${randomUUID().replace(/-/g, '')}`;
  const prefixLength = inbox.length + 1;
  interface Waiting {
    resolve: (r: ReportReply) => void;
    deadline: number;
  }
  // Insertion order = deadline order (one timeout for all): the sweep stops at the first not due.
  const waiting = new Map<number, Waiting>();
  let next = 0;
  const settle = (token: number, reply: ReportReply): void => {
    const w = waiting.get(token);
    if (!w) return; // timed out already
    waiting.delete(token);
    w.resolve(reply);
  };
  const sub: Subscription = nc.subscribe(`${inbox}.*`, {
    callback: (err, msg: Msg) => {
      if (err) return;
      const token = Number(msg.subject.slice(prefixLength));
      if (msg.data.length === 0 && msg.headers?.code === 503) {
        settle(token, { ok: false, error: { code: 'unavailable', message: `nothing serves ${typeof subject === 'string' ? subject : 'the report subject'}` } });
        return;
      }
      let reply: ReportReply;
      try {
        reply = JSON.parse(Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength).toString('utf8')) as ReportReply;
      } catch (e) {
        reply = { ok: false, error: { code: 'internal', message: `reply is not valid JSON: ${e instanceof Error ? e.message : String(e)}` } };
      }
      if (typeof reply !== 'object' || reply === null || typeof reply.ok !== 'boolean') reply = { ok: false, error: { code: 'internal', message: 'reply does not have the CommandReply shape' } };
      settle(token, reply);
    },
  });
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [token, w] of waiting) {
      if (w.deadline > now) break;
      waiting.delete(token);
      w.resolve({ ok: false, error: { code: 'timeout', message: `no reply to the report within ${timeoutMs} ms` } });
    }
  }, opts.sweepMs ?? 100);
  sweep.unref();
  const send = ((report: WorkerReport): Promise<ReportReply> => {
    const token = ++next;
    return new Promise<ReportReply>((resolve) => {
      waiting.set(token, { resolve, deadline: performance.now() + timeoutMs });
      try {
        nc.publish(typeof subject === 'string' ? subject : subject(report), Buffer.from(JSON.stringify(report)), { reply: `${inbox}.${token}` });
      } catch (e) {
        settle(token, { ok: false, error: { code: 'unavailable', message: `request failed: ${e instanceof Error ? e.message : String(e)}` } });
      }
    });
  }) as ClosableReportSender;
  send.close = () => {
    clearInterval(sweep);
    if (!sub.isClosed()) sub.unsubscribe();
    for (const [token] of waiting) settle(token, { ok: false, error: { code: 'unavailable', message: 'report sender closed' } });
  };
  return send;
}
