// Sends WorkerReportCommand: every interval, and right after a command changed something. A worker
// that cannot be listed is reported too, as unreachable (with the error, and no threads). One
// report at a time; a report asked for while one is in flight is sent once that one is done (with
// the newest state). On success the registry's acceptedSeq drops the acknowledged transitions;
// on failure (NATS down, registry away, timeout) they stay in the outbox and go with the next
// report, so nothing seen while disconnected is lost (up to the outbox bound).
import type { CommandReply, CommandResultOf, ThreadInfo, WorkerReport, WorkerReportCommand } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { TransitionOutbox } from './transition-outbox';

export type ReportResult = CommandResultOf<typeof WorkerReportCommand>;
export type ReportSend = (report: WorkerReport) => Promise<CommandReply<ReportResult>>;

export interface WorkerIdentity {
  name: string;
  dest: string;
  version: string;
}

export interface WorkerReporterDeps {
  identity: () => WorkerIdentity;
  threads: () => Promise<ThreadInfo[]>;
  /** Commands the agent has carried out (AgentCommands.controls), read before the threads are listed. */
  controls?: () => number;
  outbox: TransitionOutbox;
  send: ReportSend;
  logger: Logger;
  now?: () => number;
  /** Transitions per report at most; a longer backlog goes in follow-up reports. Default 5000. */
  maxTransitionsPerReport?: number;
}

export type ReportOutcome =
  | { ok: true; result: ReportResult; transitions: number }
  | { ok: false; error: { code: string; message: string }; transitions: number };

export interface ReporterStats {
  sent: number;
  ok: number;
  failed: number;
  consecutiveFailures: number;
  lastOkAt: number | undefined;
  lastError: string | undefined;
}

export class WorkerReporter {
  private readonly now: () => number;
  private readonly maxPerReport: number;
  private readonly log: Logger;
  private current: Promise<ReportOutcome> | undefined;
  private queued: Promise<ReportOutcome> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly counters: ReporterStats = { sent: 0, ok: 0, failed: 0, consecutiveFailures: 0, lastOkAt: undefined, lastError: undefined };

  constructor(private readonly deps: WorkerReporterDeps) {
    this.now = deps.now ?? Date.now;
    this.maxPerReport = deps.maxTransitionsPerReport ?? 5_000;
    this.log = deps.logger.child({ component: 'reporter' });
  }

  get stats(): ReporterStats {
    return { ...this.counters };
  }

  /** Sends a report now, or right after the one in flight; resolves with that report's outcome. */
  reportNow(): Promise<ReportOutcome> {
    if (!this.current) {
      this.current = this.sendOnce().finally(() => {
        this.current = undefined;
      });
      return this.current;
    }
    if (!this.queued) {
      this.queued = this.current
        .catch(() => undefined)
        .then(() => {
          this.queued = undefined;
          return this.reportNow();
        });
    }
    return this.queued;
  }

  /** Reports every `intervalMs` (and at once unless `immediate` is false). */
  start(intervalMs: number, opts: { immediate?: boolean } = {}): void {
    if (this.timer) return;
    this.stopped = false;
    this.timer = setInterval(() => void this.reportNow(), intervalMs);
    if (opts.immediate ?? true) void this.reportNow();
  }

  /** Stops the interval and waits for the report in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([this.current, this.queued]);
  }

  private async sendOnce(): Promise<ReportOutcome> {
    let threads: ThreadInfo[] = [];
    let unreachable: string | undefined;
    // Read before the list: a command done while the list runs may or may not show in it.
    const controls = this.deps.controls?.();
    try {
      threads = await this.deps.threads();
    } catch (e) {
      // Reported all the same: the registry tells a worker that does not answer its (live) agent
      // from an agent that is gone (which stops reporting and expires).
      unreachable = (e instanceof Error ? e.message : String(e)).slice(0, 2000) || 'the worker could not be listed';
    }
    const transitions = this.deps.outbox.pending(this.maxPerReport);
    const report: WorkerReport = {
      ...this.deps.identity(),
      bootId: this.deps.outbox.bootId,
      sentAt: new Date(this.now()).toISOString(),
      threads,
      ...(unreachable !== undefined ? { unreachable } : {}),
      transitions,
      ...(controls !== undefined ? { controls } : {}),
    };
    this.counters.sent++;
    let reply: CommandReply<ReportResult>;
    try {
      reply = await this.deps.send(report);
    } catch (e) {
      reply = { ok: false, error: { code: 'unavailable', message: e instanceof Error ? e.message : String(e) } };
    }
    if (!reply.ok || !reply.result) {
      return this.failed(reply.ok ? { code: 'internal', message: 'report reply carries no result' } : reply.error, transitions.length);
    }
    const dropped = this.deps.outbox.ack(reply.result.acceptedSeq);
    if (this.counters.consecutiveFailures > 0) {
      this.log.info({ failedReports: this.counters.consecutiveFailures, delivered: dropped, pending: this.deps.outbox.size }, 'reports reach the registry again');
    }
    this.counters.ok++;
    this.counters.consecutiveFailures = 0;
    this.counters.lastOkAt = this.now();
    this.counters.lastError = undefined;
    // A backlog longer than one report (after an outage) goes out right away, not an interval later.
    if (this.deps.outbox.size > 0 && dropped > 0 && this.deps.outbox.pending(1)[0]!.seq > reply.result.acceptedSeq && transitions.length === this.maxPerReport && !this.stopped) {
      setImmediate(() => void this.reportNow());
    }
    return { ok: true, result: reply.result, transitions: transitions.length };
  }

  private failed(error: { code: string; message: string }, transitions: number): ReportOutcome {
    this.counters.failed++;
    this.counters.consecutiveFailures++;
    this.counters.lastError = `${error.code}: ${error.message}`;
    const fields = { code: error.code, error: error.message, pending: this.deps.outbox.size, dropped: this.deps.outbox.dropped };
    // One warning per outage, not one per interval.
    if (this.counters.consecutiveFailures === 1) this.log.warn(fields, 'report not delivered; transitions kept for the next one');
    else this.log.debug(fields, 'report not delivered');
    return { ok: false, error, transitions };
  }
}
