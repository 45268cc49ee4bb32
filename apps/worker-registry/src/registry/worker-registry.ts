// WorkerRegistry: every sealing worker in one place. Plain class; the Nest module is a shell over it.
//
// - State lives in memory (one aggregate per worker, folded with evolveWorker), loaded at start
//   from the projection tables after the projection has caught up with the log, and kept current
//   by folding each event this registry appends. The projection (same fold) runs alongside and
//   is the durable read model; a rebuild of it from the log gives the same workers and threads.
// - Reports: decideReport -> the worker's events (stream worker-<name>), group-committed with other
//   workers' (GroupAppender -> appendToStreams) when something
//   changed, nothing but an in-memory last-seen otherwise (written in batches every few seconds).
// - Commands (pause/resume/drain) go to the worker's agent over NATS request-reply, and what the
//   agent did is recorded with the actor who asked.
// - Expiry: a worker silent past the expiration gets one WorkerExpired; its next report WorkerReturned.
// Everything touching one worker runs through a per-worker queue (KeyedSerializer).
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Pool } from 'pg';
import {
  AgentDrain,
  AgentPause,
  AgentResume,
  CommandErrorCodes,
  isValidStateForPlan,
  newEventFor,
  ThreadPaused,
  ThreadResumed,
  validStatesForPlan,
  WorkerDrainStarted,
  WorkerExpired,
  WorkerRemoved,
  type CommandError,
  type CommandRequestOf,
  type CommandResultOf,
  type EventEnvelope,
  type EventMetadata,
  type ThreadInfo,
  type WorkerDrain,
  type WorkerErrors,
  type WorkerHistory,
  type WorkerHistoryEntry,
  type WorkerInfo,
  type WorkerList,
  type WorkerListPage,
  WORKER_LIST_PAGE_MAX,
  type WorkerPause,
  type WorkerRemove,
  type WorkerReport,
  type WorkerResume,
  type WorkerSummary,
} from '@fleetvisor/contracts';
import { PostgresEventStore, ProjectionRunner, type EventStoreConnection, type PostgresLeaderLock } from '@fleetvisor/event-store';
import { CommandFailure, type CommandBus } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import type { WorkerRegistrySettings } from '../config';
import { decideReport, drainFinishedEvent } from '../domain/report-decision';
import { evolveWorker, foldWorker, type ThreadRecord, type WorkerAggregate } from '../domain/worker-state';
import { countThreads, ReportedThreads, summaryView, threadViews, type ThreadCounts } from '../domain/worker-view';
import { flushLastSeen, loadWorkerAggregates, workersOfSector, WorkerRegistryProjection } from '../projection/worker-projection';
import { sectorHistory, workerHistory } from './history';
import type { ScreenedReport } from './report-screen';
import { GroupAppender } from './group-appender';
import { KeyedSerializer } from './keyed-serializer';

export interface WorkerRegistryDeps {
  pool: Pool;
  store: PostgresEventStore;
  eventStore: EventStoreConnection;
  bus: CommandBus;
  logger: Logger;
  /** Host of this process, recorded in event metadata. */
  host: string;
  settings: WorkerRegistrySettings;
  clock?: () => number;
  /**
   * Called when this registry loses its leader lock (its lock connection dropped): another
   * instance may take over, so this one must stop (the service exits and is restarted).
   */
  onLeadershipLost?: () => void;
}

/** One active registry per log: its state is in memory, two would record the same changes twice. */
export const WORKER_REGISTRY_LOCK = 'fleetvisor:worker-registry';

interface LiveWorker {
  agg: WorkerAggregate;
  lastSeenMs: number;
  reported: ReportedThreads | undefined;
  counts: ThreadCounts;
  /**
   * The last screened report handled in full or as `same` (its screen seq, 0 = none), the state it
   * left and the acceptedSeq it was answered with: a later `same` report of that seq is decided by
   * these alone while `agg` is still `baseAgg` (see screened()).
   */
  baseSeq: number;
  baseAgg: WorkerAggregate | undefined;
  baseAccepted: number;
}

export interface ReportOutcome {
  appended: number;
  acceptedSeq: number;
}

const DEFAULT_HISTORY_LIMIT = 1_000;
/** Below NATS's default max payload (1 MiB), with room for the reply envelope. */
const MAX_LIST_REPLY_BYTES = 900 * 1024;
const DEFAULT_ACTOR = 'unknown';

function listNames(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

/** 0-3, 5, 7-15 */
export function describeIndexes(indexes: readonly number[]): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export class WorkerRegistry {
  private readonly workers = new Map<string, LiveWorker>();
  private readonly queue = new KeyedSerializer();
  private readonly seenDirty = new Map<string, number>();
  private readonly log: Logger;
  private readonly now: () => number;
  private runner: ProjectionRunner | undefined;
  private timers: NodeJS.Timeout[] = [];
  private startedAtMs = 0;
  private flushing: Promise<void> | undefined;
  private expiring = false;
  private started = false;
  private lock: PostgresLeaderLock | undefined;
  private standingBy = false;
  private readonly appender: GroupAppender;

  constructor(private readonly deps: WorkerRegistryDeps) {
    this.log = deps.logger.child({ component: 'worker-registry' });
    this.now = deps.clock ?? Date.now;
    this.appender = new GroupAppender(deps.store, { logger: this.log });
  }

  get projectionRunner(): ProjectionRunner | undefined {
    return this.runner;
  }

  /**
   * Waits to be the one active registry (a second instance stands by on the leader lock), catches
   * the projection up with the log, loads every worker from it, then follows the log.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.lock = this.deps.eventStore.leaderLock(WORKER_REGISTRY_LOCK, { logger: this.log });
    this.standingBy = true;
    let told = false;
    while (!(await this.lock.tryAcquire())) {
      if (!this.standingBy) throw new Error('worker registry stopped while standing by');
      if (!told) this.log.info('another worker registry is active on this event log; standing by');
      told = true;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    this.standingBy = false;
    this.lock.onLost(() => {
      this.log.error('worker registry lost its leader lock; another instance may take over: stopping');
      this.deps.onLeadershipLost?.();
    });
    // The runner reads through a store instance of its own: the registry's store wakes in-process
    // readers on every append, which at a thousand appends a second would make the runner commit
    // a transaction per append. Polling every 200 ms applies the same events in a few big batches
    // (the projection is the durable read model; the live view is in memory already).
    const quietStore = new PostgresEventStore(this.deps.pool, { logger: this.log });
    this.runner = new ProjectionRunner(this.deps.pool, quietStore, new WorkerRegistryProjection(), {
      batchSize: 1_000,
      pollIntervalMs: 200,
      logger: this.log,
    });
    const caughtUp = await this.runner.catchUp();
    const loaded = await loadWorkerAggregates(this.deps.pool);
    for (const [name, agg] of loaded) this.setAggregate(name, agg, Date.parse(agg.worker.lastSeen));
    await this.runner.start();
    this.startedAtMs = this.now();
    const s = this.deps.settings;
    this.timers.push(setInterval(() => void this.expireSilent(), s.expiryCheckIntervalMs));
    this.timers.push(setInterval(() => void this.flushSeen(), s.lastSeenFlushIntervalMs));
    if (s.statsLogIntervalMs > 0) {
      this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
      this.loopDelay.enable();
      this.timers.push(setInterval(() => this.logStats(), s.statsLogIntervalMs));
    }
    for (const t of this.timers) t.unref();
    this.started = true;
    this.log.info({ workers: loaded.size, caughtUp }, 'worker registry loaded from its projection');
  }

  /** Finishes work in progress, writes last-seen times, stops following the log. */
  async stop(): Promise<void> {
    this.standingBy = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.loopDelay?.disable();
    this.loopDelay = undefined;
    await this.queue.idle();
    await this.flushSeen();
    await this.runner?.stop();
    await this.lock?.release().catch(() => undefined);
    this.lock = undefined;
    this.started = false;
  }

  // ---- reports ----

  /** Handles one validated report (see ReportIntake for parsing, validation and dead letters). */
  report(report: WorkerReport): Promise<ReportOutcome> {
    return this.queue.run(report.name, async () => (await this.decideAndCommit(report)).outcome);
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
    return this.queue.run(r.name, async () => {
      const live = this.workers.get(r.name);
      if (r.sameAs > 0 && live && live.baseSeq === r.sameAs && live.baseAgg === live.agg && live.reported) {
        const now = this.now();
        this.reportsSinceStats++;
        live.lastSeenMs = now;
        live.reported.updateVolatile(r.runStates, r.elapsed, r.texts, now);
        countThreads(live.agg, live.reported, live.counts);
        this.seenDirty.set(r.name, now);
        live.baseSeq = r.seq;
        return { appended: 0, acceptedSeq: live.baseAccepted };
      }
      if (live) live.baseSeq = 0;
      const { outcome, exact } = await this.decideAndCommit(r.full());
      const after = this.workers.get(r.name);
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
    this.reportsSinceStats++;
    const live = this.workers.get(report.name);
    const decision = decideReport(live?.agg, report, { nowMs: now, host: this.deps.host });
    if (decision.events.length === 0) {
      this.touch(report.name, live!, report, now);
      return { outcome: { appended: 0, acceptedSeq: decision.acceptedSeq }, exact: true };
    }
    const appended = await this.commit(report.name, decision.events, decision.next, now);
    const after = this.workers.get(report.name);
    if (after) this.touch(report.name, after, report, now);
    return {
      outcome: { appended, acceptedSeq: after && after.agg.worker.bootId === report.bootId ? after.agg.worker.acceptedSeq : decision.acceptedSeq },
      exact: appended === decision.events.length,
    };
  }

  private reportsSinceStats = 0;
  private appendsSinceStats = 0;
  private statsAt = 0;
  private groupsAtStats = 0;
  private loopDelay: IntervalHistogram | undefined;
  private commitMsAtStats = 0;

  private logStats(): void {
    const now = this.now();
    const seconds = Math.max(0.001, (now - (this.statsAt || this.startedAtMs)) / 1000);
    // Diagnostics (node --expose-gc): the heap that is live, not garbage waiting for a collection.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) gc();
    const m = process.memoryUsage();
    let threads = 0;
    for (const w of this.workers.values()) threads += w.agg.threads.size;
    this.log.info(
      {
        workers: this.workers.size,
        threads,
        reportsPerSec: Math.round(this.reportsSinceStats / seconds),
        appendsPerSec: Math.round(this.appendsSinceStats / seconds),
        commitsPerSec: Math.round((this.appender.stats.groups - this.groupsAtStats) / seconds),
        commitMsAvg: Math.round((this.appender.stats.commitMs - this.commitMsAtStats) / Math.max(1, this.appender.stats.groups - this.groupsAtStats)),
        ...(this.loopDelay ? { loopDelayP99Ms: Math.round(this.loopDelay.percentile(99) / 1e6) } : {}),
        heapMb: Math.round(m.heapUsed / 1048576),
        heapTotalMb: Math.round(m.heapTotal / 1048576),
        externalMb: Math.round(m.external / 1048576),
        rssMb: Math.round(m.rss / 1048576),
      },
      'worker registry stats',
    );
    this.reportsSinceStats = 0;
    this.appendsSinceStats = 0;
    this.groupsAtStats = this.appender.stats.groups;
    this.loopDelay?.reset();
    this.commitMsAtStats = this.appender.stats.commitMs;
    this.statsAt = now;
  }

  /** A report was handled: its volatile part goes into the worker's compact slots, in place. */
  private touch(name: string, live: LiveWorker, report: WorkerReport, now: number): void {
    live.lastSeenMs = now;
    if (live.reported) live.reported.update(report.threads, now);
    else live.reported = ReportedThreads.of(report.threads, now);
    countThreads(live.agg, live.reported, live.counts);
    this.seenDirty.set(name, now);
  }

  /** Appends a worker's events in one call and keeps the state they fold into. */
  private async commit(name: string, events: EventEnvelope[], next: WorkerAggregate | undefined, now: number): Promise<number> {
    // Group commit: the appends of the workers reporting within a few ms share one transaction.
    const res = await this.appender.append(`worker-${name}`, events);
    this.appendsSinceStats++;
    if (res.appended !== events.length) {
      // Some of these ids were in the log already (a report handled before a crash): the log is
      // the truth, fold the stream again rather than trust what was decided.
      const { events: all } = await this.deps.store.readStream(`worker-${name}`);
      next = foldWorker(all);
      this.log.info({ worker: name, offered: events.length, appended: res.appended }, 'events already recorded; worker state re-read from the log');
    }
    const prev = this.workers.get(name);
    if (next) this.setAggregate(name, next, prev?.lastSeenMs ?? now, prev?.reported);
    else this.workers.delete(name);
    return res.appended;
  }

  private setAggregate(name: string, agg: WorkerAggregate, lastSeenMs: number, reported?: ReportedThreads): void {
    const live = this.workers.get(name);
    if (live) {
      // Same object, new state: the worker's entry is not reallocated on every change.
      live.agg = agg;
      live.lastSeenMs = lastSeenMs;
      live.reported = reported;
      countThreads(agg, reported, live.counts);
      return;
    }
    this.workers.set(name, { agg, lastSeenMs, reported, counts: countThreads(agg, reported), baseSeq: 0, baseAgg: undefined, baseAccepted: 0 });
  }

  /** Appends events caused by a command or a timer, folding them into the worker. */
  private async record(name: string, events: EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    const live = this.workers.get(name);
    let next: WorkerAggregate | undefined = live ? structuredClone(live.agg) : undefined;
    for (const e of events) next = evolveWorker(next, e);
    await this.commit(name, events, next, this.now());
  }

  // ---- expiry and last-seen ----

  /** Marks workers silent past the expiration (time this registry was down does not count). */
  async expireSilent(): Promise<number> {
    if (this.expiring) return 0;
    this.expiring = true;
    let expired = 0;
    try {
      const { expirationMs } = this.deps.settings;
      const now = this.now();
      const due = [...this.workers.entries()].filter(([, w]) => !w.agg.worker.expired && now - Math.max(w.lastSeenMs, this.startedAtMs) > expirationMs);
      for (const [name] of due) {
        try {
          await this.queue.run(name, async () => {
            const w = this.workers.get(name);
            if (!w || w.agg.worker.expired || this.now() - Math.max(w.lastSeenMs, this.startedAtMs) <= expirationMs) return;
            const lastSeen = new Date(w.lastSeenMs).toISOString();
            await this.record(name, [newEventFor(WorkerExpired, { name, lastSeen, expirationMs }, { host: this.deps.host })]);
            // The event's own fold sets nothing about last-seen: keep the real one.
            const after = this.workers.get(name);
            if (after) after.lastSeenMs = w.lastSeenMs;
            expired++;
          });
        } catch (e) {
          this.log.error({ err: e, worker: name }, 'could not record WorkerExpired; will retry');
        }
      }
    } finally {
      this.expiring = false;
    }
    return expired;
  }

  /** Writes the last-seen times of reports since the previous flush (one statement). */
  async flushSeen(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.seenDirty.size === 0) return;
    const batch = new Map(this.seenDirty);
    this.seenDirty.clear();
    this.flushing = flushLastSeen(this.deps.pool, batch)
      .then((notYet) => {
        for (const n of notYet) if (!this.seenDirty.has(n) && this.workers.has(n)) this.seenDirty.set(n, batch.get(n)!);
      })
      .catch((e: unknown) => {
        // Keep them for the next flush (unless newer ones came meanwhile).
        for (const [n, t] of batch) if (!this.seenDirty.has(n)) this.seenDirty.set(n, t);
        this.log.warn({ err: e, workers: batch.size }, 'could not store last-seen times; retrying at the next flush');
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  // ---- queries ----

  list(): CommandResultOf<typeof WorkerList> {
    const workers = this.summaries(this.sortedNames());
    // A reply is one NATS message (1 MB by default): refuse clearly rather than time out.
    const bytes = Buffer.byteLength(JSON.stringify(workers));
    if (bytes > MAX_LIST_REPLY_BYTES) {
      throw new CommandFailure(
        'too_large',
        `the list of ${workers.length} workers (${Math.round(bytes / 1024)} KiB) does not fit one reply; ask list-page (fleetvisor worker list does)`,
      );
    }
    return { workers };
  }

  listPage(req: CommandRequestOf<typeof WorkerListPage>): CommandResultOf<typeof WorkerListPage> {
    const names = this.sortedNames();
    const limit = req.limit ?? WORKER_LIST_PAGE_MAX;
    let start = 0;
    if (req.after !== undefined) {
      const after = req.after;
      // First name strictly after `after` (binary search over the sorted names).
      let lo = 0;
      let hi = names.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (names[mid]! <= after) lo = mid + 1;
        else hi = mid;
      }
      start = lo;
    }
    const page = names.slice(start, start + limit);
    const more = start + limit < names.length;
    return { workers: this.summaries(page), ...(more ? { next: page[page.length - 1]! } : {}), total: names.length };
  }

  private sortedNames(): string[] {
    return [...this.workers.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private summaries(names: readonly string[]): WorkerSummary[] {
    const now = this.now();
    const out: WorkerSummary[] = [];
    for (const n of names) {
      const w = this.workers.get(n)!;
      out.push(summaryView(w.agg, w.counts, w.lastSeenMs, now, this.deps.settings.expirationMs));
    }
    return out;
  }

  info(req: CommandRequestOf<typeof WorkerInfo>): CommandResultOf<typeof WorkerInfo> {
    const [, w] = this.resolve(req.worker);
    const now = this.now();
    return { worker: summaryView(w.agg, w.counts, w.lastSeenMs, now, this.deps.settings.expirationMs), threads: threadViews(w.agg, w.reported, now) };
  }

  errors(): CommandResultOf<typeof WorkerErrors> {
    const now = this.now();
    const threads: CommandResultOf<typeof WorkerErrors>['threads'] = [];
    const names = [...this.workers.keys()].sort();
    for (const name of names) {
      const w = this.workers.get(name)!;
      const expired = w.agg.worker.expired || now - w.lastSeenMs > this.deps.settings.expirationMs;
      for (const t of threadViews(w.agg, w.reported, now)) {
        if (t.lastError === undefined) continue;
        threads.push({
          worker: name,
          index: t.index,
          plan: t.plan,
          state: t.state,
          ...(t.sectorId !== undefined ? { sectorId: t.sectorId } : {}),
          paused: t.threadState === 'paused',
          lastError: t.lastError,
          expired,
        });
      }
    }
    return { threads };
  }

  async history(req: CommandRequestOf<typeof WorkerHistory>): Promise<CommandResultOf<typeof WorkerHistory>> {
    if ((req.worker === undefined) === (req.sectorId === undefined)) {
      throw new CommandFailure(CommandErrorCodes.invalidRequest, 'name either a worker (optionally with an index) or a sector id');
    }
    if (req.sectorId !== undefined && req.index !== undefined) throw new CommandFailure(CommandErrorCodes.invalidRequest, 'index goes with a worker, not with a sector id');
    let entries: WorkerHistoryEntry[];
    if (req.worker !== undefined) {
      // A removed worker is no longer in memory, but its history is still in the log.
      const known = this.find(req.worker);
      const name = known?.[0] ?? req.worker;
      const { events, currentVersion } = await this.deps.store.readStream(`worker-${name}`);
      if (currentVersion === 0) throw this.unknownWorker(req.worker);
      if (req.index !== undefined && known && !known[1].agg.threads.has(req.index) && !events.some((e) => (e.data as { index?: number }).index === req.index)) {
        throw this.unknownIndex(name, known[1].agg);
      }
      entries = workerHistory(events, req.index);
    } else {
      const sectorId = req.sectorId!;
      const places = await workersOfSector(this.deps.pool, sectorId);
      if (places.length === 0) throw new CommandFailure(CommandErrorCodes.notFound, `no worker has recorded sector ${sectorId}`);
      entries = [];
      for (const worker of new Set(places.map((p) => p.worker))) {
        const { events } = await this.deps.store.readStream(`worker-${worker}`);
        entries.push(...sectorHistory(events, sectorId));
      }
      entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    }
    const limit = req.limit ?? DEFAULT_HISTORY_LIMIT;
    const truncated = entries.length > limit;
    return { entries: truncated ? entries.slice(entries.length - limit) : entries, truncated };
  }

  // ---- commands proxied to the agent ----

  pause(req: CommandRequestOf<typeof WorkerPause>): Promise<CommandResultOf<typeof WorkerPause>> {
    const [name] = this.resolve(req.worker);
    return this.queue.run(name, async () => {
      const [, w] = this.resolve(name);
      this.threadOf(name, w.agg, req.index);
      const reply = await this.deps.bus.request(AgentPause, { index: req.index }, { instance: name, timeoutMs: this.deps.settings.agentTimeoutMs });
      if (!reply.ok) throw this.agentFailure(name, 'pause', reply.error);
      const changed = reply.result?.changed ?? false;
      const t = this.workers.get(name)?.agg.threads.get(req.index);
      if (t && !t.paused) {
        const actor = req.actor ?? DEFAULT_ACTOR;
        await this.record(name, [newEventFor(ThreadPaused, { worker: name, index: req.index, reason: 'manual', actor }, this.meta(actor))]);
      }
      return { worker: name, index: req.index, changed };
    });
  }

  resume(req: CommandRequestOf<typeof WorkerResume>): Promise<CommandResultOf<typeof WorkerResume>> {
    const [name] = this.resolve(req.worker);
    return this.queue.run(name, async () => {
      const [, w] = this.resolve(name);
      const t = this.threadOf(name, w.agg, req.index);
      // Checked here, before the agent is asked: damocles resumed to any state unchecked.
      if (req.state !== undefined && !isValidStateForPlan(t.plan, req.state)) {
        throw new CommandFailure(
          CommandErrorCodes.invalidRequest,
          `state "${req.state}" is not a state of plan ${t.plan} (thread #${req.index} of ${name}); valid states: ${validStatesForPlan(t.plan).join(', ')}`,
        );
      }
      const reply = await this.deps.bus.request(
        AgentResume,
        { index: req.index, ...(req.state !== undefined ? { state: req.state } : {}) },
        { instance: name, timeoutMs: this.deps.settings.agentTimeoutMs },
      );
      if (!reply.ok) throw this.agentFailure(name, 'resume', reply.error);
      const result = reply.result!;
      const now = this.workers.get(name)?.agg.threads.get(req.index);
      if (now && (now.paused || result.changed)) {
        const actor = req.actor ?? DEFAULT_ACTOR;
        await this.record(name, [
          newEventFor(ThreadResumed, { worker: name, index: req.index, ...(req.state !== undefined ? { state: req.state } : {}), actor }, this.meta(actor)),
        ]);
      }
      return { worker: name, index: req.index, state: result.state, changed: result.changed };
    });
  }

  drain(req: CommandRequestOf<typeof WorkerDrain>): Promise<CommandResultOf<typeof WorkerDrain>> {
    const [name] = this.resolve(req.worker);
    return this.queue.run(name, async () => {
      this.resolve(name);
      const reply = await this.deps.bus.request(AgentDrain, {}, { instance: name, timeoutMs: this.deps.settings.agentTimeoutMs });
      if (!reply.ok) throw this.agentFailure(name, 'drain', reply.error);
      const progress = reply.result!;
      const w = this.workers.get(name);
      // Asked again after the drain finished, with no thread resumed since: nothing new happened.
      if (w && !w.agg.worker.draining) {
        if (!w.agg.worker.drained) {
          const actor = req.actor ?? DEFAULT_ACTOR;
          const started = newEventFor(WorkerDrainStarted, { name, actor }, this.meta(actor));
          const probe = evolveWorker(structuredClone(w.agg), started)!;
          const finished = drainFinishedEvent(probe, this.now(), this.meta());
          await this.record(name, finished ? [started, finished] : [started]);
        }
      }
      const after = this.workers.get(name);
      // Finished once the agent says so and the registry has recorded every thread paused.
      const finished = progress.finished && after !== undefined && !after.agg.worker.draining;
      return { worker: name, threads: progress.threads, paused: progress.paused, finished };
    });
  }

  remove(req: CommandRequestOf<typeof WorkerRemove>): Promise<CommandResultOf<typeof WorkerRemove>> {
    const [name] = this.resolve(req.worker);
    return this.queue.run(name, async () => {
      if (!this.workers.has(name)) return { worker: name, removed: false };
      const actor = req.actor ?? DEFAULT_ACTOR;
      await this.record(name, [newEventFor(WorkerRemoved, { name, actor }, this.meta(actor))]);
      this.seenDirty.delete(name);
      return { worker: name, removed: true };
    });
  }

  // ---- helpers ----

  private meta(actor?: string): EventMetadata {
    return { host: this.deps.host, ...(actor !== undefined ? { actor } : {}) };
  }

  /** A worker by instance name, or by address (dest). */
  private find(ref: string): [string, LiveWorker] | undefined {
    const byName = this.workers.get(ref);
    if (byName) return [ref, byName];
    let best: [string, LiveWorker] | undefined;
    for (const [name, w] of this.workers) {
      if (w.agg.worker.dest === ref && (!best || w.lastSeenMs > best[1].lastSeenMs)) best = [name, w];
    }
    return best;
  }

  private resolve(ref: string): [string, LiveWorker] {
    const found = this.find(ref);
    if (!found) throw this.unknownWorker(ref);
    return found;
  }

  private unknownWorker(ref: string): CommandFailure {
    const names = [...this.workers.keys()].sort();
    return new CommandFailure(
      CommandErrorCodes.notFound,
      names.length === 0 ? `unknown worker "${ref}": no workers are registered` : `unknown worker "${ref}" (by name or address); workers: ${listNames(names)}`,
    );
  }

  private unknownIndex(name: string, agg: WorkerAggregate): CommandFailure {
    const indexes = [...agg.threads.keys()];
    return new CommandFailure(
      CommandErrorCodes.notFound,
      indexes.length === 0 ? `worker ${name} has no threads` : `worker ${name} has no thread with that index; threads: ${describeIndexes(indexes)}`,
    );
  }

  private threadOf(name: string, agg: WorkerAggregate, index: number): ThreadRecord {
    const t = agg.threads.get(index);
    if (!t) {
      const indexes = [...agg.threads.keys()];
      throw new CommandFailure(
        CommandErrorCodes.notFound,
        indexes.length === 0 ? `worker ${name} has no threads` : `worker ${name} has no thread #${index}; threads: ${describeIndexes(indexes)}`,
      );
    }
    return t;
  }

  private agentFailure(name: string, verb: string, error: CommandError): CommandFailure {
    if (error.code === CommandErrorCodes.unavailable || error.code === CommandErrorCodes.timeout) {
      return new CommandFailure(CommandErrorCodes.unavailable, `worker ${name} is unreachable: its agent did not answer ${verb} (${error.message}); nothing was changed or recorded`);
    }
    return new CommandFailure(error.code, `worker ${name}: ${error.message}`);
  }

  // ---- for tests and the benchmark ----

  /** The recorded state of every worker (what the projection tables hold, last-seen aside). */
  snapshot(): Map<string, WorkerAggregate> {
    const out = new Map<string, WorkerAggregate>();
    for (const [n, w] of this.workers) out.set(n, structuredClone(w.agg));
    return out;
  }

  /** Threads as `worker info` shows them (for tests). */
  threadsOf(name: string): ThreadInfo[] | undefined {
    const w = this.workers.get(name);
    return w ? threadViews(w.agg, w.reported, this.now()) : undefined;
  }
}
