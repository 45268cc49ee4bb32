// WorkerReports: the intake use case. A validated report (ReportIntake parses, validates and
// dead-letters) is decided with decideReport against the worker's recorded state; what changed is
// appended (WorkerRecorder), and a report that changes nothing only refreshes the worker's last-seen
// time and the volatile part of its threads, in memory (written in batches by WorkerLiveness).
import type { WorkerReport } from '@fleetvisor/contracts';
import { decideReport } from '../domain/report-decision';
import { countThreads, ReportedThreads } from '../domain/worker-view';
import type { LiveWorker, LiveWorkers } from './live-workers';
import type { ScreenedReport } from './report-screen';
import type { WorkerRecorder } from './worker-recorder';

export interface ReportOutcome {
  appended: number;
  acceptedSeq: number;
}

export interface WorkerReportsOptions {
  /** Host of this process, recorded in event metadata. */
  host: string;
  clock?: () => number;
}

export class WorkerReports {
  /** Reports handled since the registry started (for its stats line). */
  handled = 0;
  private readonly now: () => number;

  constructor(
    private readonly live: LiveWorkers,
    private readonly recorder: WorkerRecorder,
    private readonly opts: WorkerReportsOptions,
  ) {
    this.now = opts.clock ?? Date.now;
  }

  /** Handles one validated report. */
  report(report: WorkerReport): Promise<ReportOutcome> {
    return this.live.queue.run(report.name, async () => (await this.decideAndCommit(report)).outcome);
  }

  /**
   * Handles a report the screen thread checked (report-screen.ts). A `same` report (it repeats the
   * worker's last report in everything decideReport reads, and has no transitions) of a worker whose
   * recorded state is still what that last report left yields no events, exactly as decideReport
   * would find: only its volatile part is laid over the worker, and the reply is the last one's.
   * Anything else (a command, an expiry or a failed report changed the worker since, or the report
   * says something new) is parsed and decided in full.
   */
  screened(r: ScreenedReport): Promise<ReportOutcome> {
    return this.live.queue.run(r.name, async () => {
      const live = this.live.get(r.name);
      if (r.sameAs > 0 && live && live.baseSeq === r.sameAs && live.baseAgg === live.agg && live.reported) {
        const now = this.now();
        this.handled++;
        live.lastSeenMs = now;
        live.reported.updateVolatile(r.runStates, r.elapsed, r.texts, now);
        countThreads(live.agg, live.reported, live.counts);
        this.live.markSeen(r.name, now);
        live.baseSeq = r.seq;
        return { appended: 0, acceptedSeq: live.baseAccepted };
      }
      if (live) live.baseSeq = 0;
      const { outcome, exact } = await this.decideAndCommit(r.full());
      const after = this.live.get(r.name);
      if (after && exact) {
        after.baseSeq = r.seq;
        after.baseAgg = after.agg;
        after.baseAccepted = outcome.acceptedSeq;
      }
      return outcome;
    });
  }

  /** decideReport, the append, the new state; `exact`: the state is what the decision folded (not re-read from the log). */
  private async decideAndCommit(report: WorkerReport): Promise<{ outcome: ReportOutcome; exact: boolean }> {
    const now = this.now();
    this.handled++;
    let acceptedSeq = 0;
    const commanded = this.live.get(report.name)?.commanded;
    // Listed before the last command this registry had the agent carry out: it may show the threads
    // as they were before that command, and must not record them paused or resumed again.
    const listedBeforeCommand = commanded !== undefined && commanded.bootId === report.bootId && (report.controls ?? 0) < commanded.controls;
    const result = await this.recorder.record(
      report.name,
      (state) => {
        const decision = decideReport(state, report, { nowMs: now, host: this.opts.host, listedBeforeCommand });
        acceptedSeq = decision.acceptedSeq;
        return decision.events.length === 0 ? decision.events : { events: decision.events, state: decision.next };
      },
      now,
    );
    const after = this.live.get(report.name);
    if (after) this.touch(report.name, after, report, now);
    return {
      outcome: { appended: result.appended, acceptedSeq: after && after.agg.worker.bootId === report.bootId ? after.agg.worker.acceptedSeq : acceptedSeq },
      exact: !result.reread,
    };
  }

  /** A report was handled: its volatile part goes into the worker's compact slots, in place. */
  private touch(name: string, live: LiveWorker, report: WorkerReport, now: number): void {
    live.lastSeenMs = now;
    if (live.reported) live.reported.update(report.threads, now);
    else live.reported = ReportedThreads.of(report.threads, now);
    countThreads(live.agg, live.reported, live.counts);
    this.live.markSeen(name, now);
  }
}
