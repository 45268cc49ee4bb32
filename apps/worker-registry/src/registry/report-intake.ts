// ReportIntake: the `<root>.cmd.worker-registry.report` subscription. A raw subscription rather than
// CommandBus.serve because a malformed report must do two things: reply `invalid_request` to the
// agent (as the bus would) and park the raw message on the dead-letter subject
// `<root>.dlq.worker-registry` with the reason, so `fleetvisor events dead-letters` shows which
// worker sends what and why it was refused. A valid report goes to WorkerRegistry.report.
import type { JetStreamClient, Msg, NatsConnection, Subscription } from 'nats';
import {
  CommandErrorCodes,
  encodeSubjectToken,
  WorkerReportCommand,
  type CommandReply,
  type Subjects,
  type WorkerReport,
} from '@fleetvisor/contracts';
import { publishDeadLetter, validationError } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import { checkReport } from '../domain/report-decision';
import type { ReportOutcome } from './worker-registry';

/** Consumer name of the registry's dead letters (`fleetvisor events dead-letters --consumer worker-registry`). */
export const REPORT_DEAD_LETTER_CONSUMER = 'worker-registry';

export interface ReportIntakeDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  subjects: Subjects;
  logger: Logger;
  handle(report: WorkerReport): Promise<ReportOutcome>;
}

export interface ReportIntakeStats {
  received: number;
  handled: number;
  malformed: number;
  failed: number;
}

/** Read once: a named import of the contracts barrel is a getter call on every use (CommonJS re-exports). */
const REPORT_SCHEMA = WorkerReportCommand.request;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class ReportIntake {
  private sub: Subscription | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Replies waiting for the end of this turn of the event loop (see respond). */
  private pendingReplies: { msg: Msg; data: Uint8Array }[] = [];
  private replyFlush: NodeJS.Immediate | undefined;
  private readonly log: Logger;
  readonly stats: ReportIntakeStats = { received: 0, handled: 0, malformed: 0, failed: 0 };

  constructor(private readonly deps: ReportIntakeDeps) {
    this.log = deps.logger.child({ component: 'report-intake' });
  }

  get subject(): string {
    return this.deps.subjects.command(WorkerReportCommand.service, WorkerReportCommand.verb);
  }

  /** Subscribes (queue group of the service, like CommandBus) and waits until NATS has it. */
  async start(): Promise<void> {
    if (this.sub) return;
    this.sub = this.deps.nc.subscribe(this.subject, {
      queue: `${this.deps.subjects.root}-${encodeSubjectToken(WorkerReportCommand.service)}`,
      callback: (err, msg) => {
        if (err) {
          this.log.error({ err }, 'report subscription error');
          return;
        }
        const p = this.onMessage(msg).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      },
    });
    await this.deps.nc.flush();
  }

  /** Stops taking reports and waits for those in progress to be answered. */
  async stop(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    if (sub && !sub.isClosed()) await sub.drain().catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    this.flushReplies();
  }

  private async onMessage(msg: Msg): Promise<void> {
    this.stats.received++;
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
    try {
      const outcome = await this.deps.handle(report);
      this.stats.handled++;
      this.respond(msg, { ok: true, result: outcome });
    } catch (e) {
      this.stats.failed++;
      this.log.error({ err: e, worker: report.name }, 'report could not be recorded');
      this.respond(msg, { ok: false, error: { code: CommandErrorCodes.internal, message: `report of ${report.name} could not be recorded: ${errorText(e)}` } });
    }
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
   * one as reports finish made that a socket write per report (a tenth of the registry's CPU at
   * 5,000 reports/s). Gathered, a turn's replies go out in one write, at most a turn later.
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
