// ReportIntake: the `<root>.cmd.worker-registry.report.<worker>` subscription (scoped: the worker a
// report is for is the subject's last token, so a NATS permission lets an agent's credential
// publish only its own worker's reports; a report whose body names another worker is refused
// `forbidden` and nothing is recorded). The old unscoped `<root>.cmd.worker-registry.report` is
// still heard, only to tell an agent of an older Fleetvisor to upgrade (`upgrade_required`).
// A raw subscription rather than
// CommandBus.serve because a malformed report must do two things: reply `invalid_request` to the
// agent (as the bus would) and park the raw message on the dead-letter subject
// `<root>.dlq.worker-registry` with the reason, so `fleetvisor events dead-letters` shows which
// worker sends what and why it was refused. A valid report goes to WorkerRegistry.report.
//
// With `screenThread` (FLEETVISOR_WORKER_REGISTRY_SCREEN_THREAD, off by default), parsing and checking run on a worker thread
// (ReportScreen, report-screen.ts): the reports that arrive in one turn of the event loop go to it
// as one buffer, and it answers, per report, invalid (reason), full (the registry parses and decides
// it) or same as that worker's last report (only the volatile part comes back, in typed arrays,
// and the registry only lays it over the worker). If the thread cannot start or dies, reports are
// parsed and checked here again, as without it.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { JetStreamClient, Msg, NatsConnection, Subscription } from 'nats';
import {
  CommandErrorCodes,
  decodeSubjectToken,
  encodeSubjectToken,
  WorkerReportCommand,
  type CommandReply,
  type Subjects,
  type WorkerReport,
} from '@fleetvisor/contracts';
import { publishDeadLetter, validationError } from '@fleetvisor/messaging';
import { fleetvisorVersion, type Logger } from '@fleetvisor/platform';
import { checkReport } from '../domain/report-decision';
import { SCREEN_INVALID, SCREEN_SAME, type ScreenBatch, type ScreenedReport } from './report-screen';
import type { ReportOutcome } from './worker-reports';

/** Consumer name of the registry's dead letters (`fleetvisor events dead-letters --consumer worker-registry`). */
export const REPORT_DEAD_LETTER_CONSUMER = 'worker-registry';

export interface ReportIntakeDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  subjects: Subjects;
  logger: Logger;
  handle(report: WorkerReport): Promise<ReportOutcome>;
  /** A report the screen thread found valid (required with screenThread). */
  handleScreened?(report: ScreenedReport): Promise<ReportOutcome>;
  /** Parse and check reports on a worker thread (see the top of this file). */
  screenThread?: boolean;
  /** The code a Worker evaluates to load the screen thread (default: the compiled entry beside this file). */
  screenThreadScript?: () => string;
}

export interface ReportIntakeStats {
  received: number;
  handled: number;
  malformed: number;
  failed: number;
  /** Reports whose body names another worker than the subject they came on. */
  forbidden: number;
  /** Reports on the old unscoped subject (an agent older than this registry). */
  outdated: number;
}

/** The code of a refused report whose body names another worker than its subject. */
export const REPORT_FORBIDDEN = 'forbidden';
/** The code of a report on the old unscoped subject. */
export const REPORT_UPGRADE_REQUIRED = 'upgrade_required';

/** The worker a scoped report subject is for: its last token, decoded. */
function scopeOf(subject: string): string {
  return decodeSubjectToken(subject.slice(subject.lastIndexOf('.') + 1));
}

/**
 * The screen thread as it ships: the compiled report-screen.thread.js beside this file. A caller
 * running from TypeScript source (tests) passes its own script that loads the thread through a loader.
 */
export function compiledScreenThreadScript(): string {
  const entry = path.join(__dirname, 'report-screen.thread.js');
  if (!existsSync(entry)) {
    throw new Error(`the report screen thread needs the compiled build: ${entry} is missing (run \`npm run build\`, or turn FLEETVISOR_WORKER_REGISTRY_SCREEN_THREAD off)`);
  }
  return `require(${JSON.stringify(entry)});`;
}

interface Screening {
  msg: Msg;
  done: () => void;
}

/** Read once: a named import of the contracts barrel is a getter call on every use (CommonJS re-exports). */
const REPORT_SCHEMA = WorkerReportCommand.request;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class ReportIntake {
  private sub: Subscription | undefined;
  private legacySub: Subscription | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Replies waiting for the end of this turn of the event loop (see respond). */
  private pendingReplies: { msg: Msg; data: Uint8Array }[] = [];
  private replyFlush: NodeJS.Immediate | undefined;
  private readonly log: Logger;
  readonly stats: ReportIntakeStats = { received: 0, handled: 0, malformed: 0, failed: 0, forbidden: 0, outdated: 0 };
  private screener: Worker | undefined;
  /** Reports waiting for the end of this turn to go to the screen thread together. */
  private toScreen: Screening[] = [];
  private screenFlush: NodeJS.Immediate | undefined;
  /** Batches at the screen thread, by id. */
  private readonly screening = new Map<number, Screening[]>();
  private screenBatches = 0;

  constructor(private readonly deps: ReportIntakeDeps) {
    this.log = deps.logger.child({ component: 'report-intake' });
  }

  /** What the intake subscribes: `<root>.cmd.worker-registry.report.*`. */
  get subject(): string {
    return this.deps.subjects.scopedCommandWildcard(WorkerReportCommand.service, WorkerReportCommand.verb);
  }

  /** The subject agents before scoped reports sent to: answered with upgrade_required only. */
  get legacySubject(): string {
    return this.deps.subjects.command(WorkerReportCommand.service, WorkerReportCommand.verb);
  }

  /** Subscribes (queue group of the service, like CommandBus) and waits until NATS has it. */
  async start(): Promise<void> {
    if (this.sub) return;
    if (this.deps.screenThread && this.deps.handleScreened && !this.screener) await this.startScreener();
    const queue = `${this.deps.subjects.root}-${encodeSubjectToken(WorkerReportCommand.service)}`;
    this.legacySub = this.deps.nc.subscribe(this.legacySubject, {
      queue,
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err }, 'legacy report subscription error');
          return;
        }
        this.outdated(msg);
      },
    });
    this.sub = this.deps.nc.subscribe(this.subject, {
      queue,
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err }, 'report subscription error');
          return;
        }
        const p = (this.screener ? this.toScreenThread(msg) : this.onMessage(msg)).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      },
    });
    await this.deps.nc.flush();
  }

  /** Stops taking reports and waits for those in progress to be answered. */
  async stop(): Promise<void> {
    const sub = this.sub;
    const legacy = this.legacySub;
    this.sub = undefined;
    this.legacySub = undefined;
    if (legacy && !legacy.isClosed()) await legacy.drain().catch(() => undefined);
    if (sub && !sub.isClosed()) await sub.drain().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    this.flushReplies();
    const screener = this.screener;
    this.screener = undefined;
    if (screener) await screener.terminate().catch(() => undefined);
  }

  /** Whether reports are screened on the worker thread (false before start, or after it failed). */
  get screensOnThread(): boolean {
    return this.screener !== undefined;
  }

  private async startScreener(): Promise<void> {
    const source = (this.deps.screenThreadScript ?? compiledScreenThreadScript)();
    const worker = new Worker(source, { eval: true, name: 'worker-registry report screen' });
    // The listeners stay for the thread's life: never removeAllListeners() on a Worker, which also
    // drops Node's own newListener/removeListener hooks that start and stop its message port (the
    // port then stays stopped and no answer arrives).
    let started: ((error?: unknown) => void) | undefined;
    const lost = (why: unknown): void => {
      if (started) {
        started(why);
        return;
      }
      if (this.screener !== worker) return;
      this.screener = undefined;
      this.log.error({ err: why }, 'report screen thread failed; parsing reports on the main thread');
      // What it had not answered is taken here, in the order it arrived.
      const batches = [...this.screening.entries()].sort((a, b) => a[0] - b[0]);
      this.screening.clear();
      for (const [, batch] of batches) for (const s of batch) void this.onMessage(s.msg, false).finally(s.done);
    };
    worker.on('message', (m: { id: number; batch: ScreenBatch }) => {
      if (started) started();
      else this.onScreened(m.id, m.batch);
    });
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`report screen thread exited with ${code}`)));
    try {
      // A first (empty) batch answered: the thread has loaded and screens.
      await new Promise<void>((resolve, reject) => {
        started = (error?: unknown) => (error === undefined ? resolve() : reject(error instanceof Error ? error : new Error(String(error))));
        worker.postMessage({ id: 0, buf: new Uint8Array(0), offsets: new Int32Array(1) });
      });
    } catch (e) {
      this.log.error({ err: e }, 'report screen thread did not start; parsing reports on the main thread');
      await worker.terminate().catch(() => undefined);
      return;
    } finally {
      started = undefined;
    }
    worker.unref();
    this.screener = worker;
    this.log.info('report screen thread started');
  }

  private toScreenThread(msg: Msg): Promise<void> {
    this.stats.received++;
    return new Promise<void>((done) => {
      this.toScreen.push({ msg, done });
      this.screenFlush ??= setImmediate(() => this.flushToScreen());
    });
  }

  private flushToScreen(): void {
    this.screenFlush = undefined;
    const batch = this.toScreen;
    this.toScreen = [];
    if (batch.length === 0) return;
    const screener = this.screener;
    if (!screener) {
      for (const s of batch) void this.onMessage(s.msg, false).finally(s.done);
      return;
    }
    let total = 0;
    for (const s of batch) total += s.msg.data.byteLength;
    const buf = new Uint8Array(total);
    const offsets = new Int32Array(batch.length + 1);
    let at = 0;
    for (let i = 0; i < batch.length; i++) {
      offsets[i] = at;
      buf.set(batch[i]!.msg.data, at);
      at += batch[i]!.msg.data.byteLength;
    }
    offsets[batch.length] = at;
    const id = ++this.screenBatches;
    this.screening.set(id, batch);
    screener.postMessage({ id, buf, offsets }, [buf.buffer, offsets.buffer]);
  }

  private onScreened(id: number, b: ScreenBatch): void {
    const batch = this.screening.get(id);
    if (!batch) return;
    this.screening.delete(id);
    const handle = this.deps.handleScreened!;
    for (let i = 0; i < batch.length; i++) {
      const { msg, done } = batch[i]!;
      if (b.kinds[i] === SCREEN_INVALID) {
        const name = b.names[i];
        void this.refuse(msg, b.reasons[i] ?? 'report is invalid', name === undefined ? undefined : { name }).finally(done);
        continue;
      }
      if (b.names[i] !== scopeOf(msg.subject)) {
        this.forbid(msg, b.names[i]!);
        done();
        continue;
      }
      const same = b.kinds[i] === SCREEN_SAME;
      const from = b.offsets[i]!;
      const to = b.offsets[i + 1]!;
      const report: ScreenedReport = {
        name: b.names[i]!,
        seq: b.seqs[i]!,
        sameAs: same ? b.sameAs[i]! : 0,
        full: () => {
          const data = msg.data;
          return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as WorkerReport;
        },
        runStates: b.runStates.subarray(from, to),
        elapsed: b.elapsed.subarray(from, to),
        texts: same ? b.texts[i] : undefined,
      };
      handle(report).then(
        (outcome) => {
          this.stats.handled++;
          this.respond(msg, { ok: true, result: outcome });
          done();
        },
        (e: unknown) => {
          this.failed(msg, report.name, e);
          done();
        },
      );
    }
  }

  private async onMessage(msg: Msg, count = true): Promise<void> {
    if (count) this.stats.received++;
    let raw: unknown;
    try {
      // A view over the message's bytes, not a copy of them.
      const data = msg.data;
      raw = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    } catch (e) {
      return this.refuse(msg, `report is not valid JSON: ${errorText(e)}`);
    }
    const problem = validationError(REPORT_SCHEMA, raw, 'report') ?? checkReport(raw as WorkerReport);
    if (problem) return this.refuse(msg, problem, raw);
    const report = raw as WorkerReport;
    if (report.name !== scopeOf(msg.subject)) return this.forbid(msg, report.name);
    try {
      const outcome = await this.deps.handle(report);
      this.stats.handled++;
      this.respond(msg, { ok: true, result: outcome });
    } catch (e) {
      this.failed(msg, report.name, e);
    }
  }

  /**
   * A report for another worker than the one its subject names: with permissions in place only a
   * misconfigured or hostile agent sends one (its credential may publish its own worker's subject
   * only), so it is refused and nothing of it is recorded.
   */
  private forbid(msg: Msg, name: string): void {
    this.stats.forbidden++;
    const scope = scopeOf(msg.subject);
    this.log.warn({ worker: name.slice(0, 100), subject: msg.subject }, 'report refused: its body names another worker than its subject');
    this.respond(msg, {
      ok: false,
      error: { code: REPORT_FORBIDDEN, message: `a report on ${msg.subject} may only be for worker "${scope}", this one is for "${name.slice(0, 100)}"; nothing was recorded` },
    });
  }

  /** An agent of an older Fleetvisor: told which subject reports go to now and to upgrade; nothing recorded. */
  private outdated(msg: Msg): void {
    this.stats.outdated++;
    const wanted = `${this.legacySubject}.<worker>`;
    this.log.warn({ subject: msg.subject }, 'report on the old unscoped subject refused: the worker-agent must be upgraded');
    this.respond(msg, {
      ok: false,
      error: {
        code: REPORT_UPGRADE_REQUIRED,
        message: `reports now go to ${wanted} (the worker's name as the last token); upgrade the worker-agent to Fleetvisor ${fleetvisorVersion()}. Nothing was recorded.`,
      },
    });
  }

  private failed(msg: Msg, name: string, e: unknown): void {
    this.stats.failed++;
    this.log.error({ err: e, worker: name }, 'report could not be recorded');
    this.respond(msg, { ok: false, error: { code: CommandErrorCodes.internal, message: `report of ${name} could not be recorded: ${errorText(e)}` } });
  }

  private async refuse(msg: Msg, reason: string, raw?: unknown): Promise<void> {
    this.stats.malformed++;
    const name = typeof (raw as { name?: unknown } | undefined)?.name === 'string' ? (raw as { name: string }).name.slice(0, 100) : undefined;
    const fullReason = name ? `report from "${name}" refused: ${reason}` : `report refused: ${reason}`;
    this.respond(msg, { ok: false, error: { code: CommandErrorCodes.invalidRequest, message: reason } });
    this.log.warn({ worker: name, reason }, 'malformed worker report dead-lettered');
    try {
      await publishDeadLetter(this.deps.js, this.deps.subjects.deadLetter(REPORT_DEAD_LETTER_CONSUMER), msg.data, {
        kind: 'malformed',
        reason: fullReason,
        originalSubject: msg.subject,
        consumer: REPORT_DEAD_LETTER_CONSUMER,
      });
    } catch (e) {
      this.log.error({ err: e }, 'could not dead-letter a malformed report');
    }
  }

  /**
   * Replies are published together once per turn of the event loop: the NATS client writes to its
   * socket once per microtask checkpoint that published something, and replies published one by
   * one as reports finish made that a socket write per report, a large share of the registry's CPU
   * at its target report rate. Gathered, a turn's replies go out in one write, at most a turn later.
   */
  private respond(msg: Msg, reply: CommandReply): void {
    if (!msg.reply) return;
    this.pendingReplies.push({ msg, data: Buffer.from(JSON.stringify(reply)) });
    this.replyFlush ??= setImmediate(() => this.flushReplies());
  }

  private flushReplies(): void {
    if (this.replyFlush) clearImmediate(this.replyFlush);
    this.replyFlush = undefined;
    const replies = this.pendingReplies;
    this.pendingReplies = [];
    for (const { msg, data } of replies) {
      try {
        msg.respond(data);
      } catch (e) {
        this.log.warn({ err: errorText(e) }, 'report reply could not be sent');
      }
    }
  }
}
