// What one worker report means for the log: decide(report, state) -> events. Pure: the registry
// appends the events, then keeps the state this function folded them into.
//
// Order of the events of one report: registration or return, the worker's new dest/version/thread
// count, the agent's transitions not recorded yet (by boot and seq), then reconciliation with the
// threads as reported (a thread seen for the first time, or whose state/sector/location differs
// without a transition saying why, gets an `observed` ThreadStateChanged), pauses and resumes
// nobody asked the registry for, and the end of a drain. A report that matches the state yields none.
// A report of a worker its agent cannot reach (`unreachable`) yields WorkerUnreachable once (and
// WorkerReachable with the next report that lists it again), its transitions, and nothing about threads.
import {
  deterministicEventId,
  newEventFor,
  planStateProblem,
  stateFitsPlan,
  ThreadPaused,
  ThreadResumed,
  ThreadStateChanged,
  WorkerDrainFinished,
  WorkerReachable,
  WorkerRegistered,
  WorkerReturned,
  WorkerUnreachable,
  WorkerUpdated,
  type EventEnvelope,
  type EventMetadata,
  type PauseReason,
  type ThreadInfo,
  type WorkerReport,
} from '@fleetvisor/contracts';
import { evolveWorker, transitionCausation, type WorkerAggregate } from './worker-state';

/** Read once: a named import of the contracts barrel is a getter call on every use (CommonJS re-exports). */
const fitsPlan = stateFitsPlan;
const stateProblem = planStateProblem;

export interface ReportDecision {
  events: EventEnvelope[];
  /** The worker after the events (undefined only if the report yields nothing for an unknown worker, which cannot happen). */
  next: WorkerAggregate | undefined;
  /** Highest transition seq of this boot recorded once the events are appended. */
  acceptedSeq: number;
}

/**
 * What the schema cannot say about a report: unique thread indexes, states that belong to each
 * thread's plan (when Fleetvisor knows the plan: another damocles plan's states are taken as given), transitions in strictly increasing seq order. Returns the first problem.
 */
export function checkReport(report: WorkerReport): string | undefined {
  const validState = fitsPlan;
  const seen = new Set<number>();
  for (const t of report.threads) {
    if (seen.has(t.index)) return `thread index ${t.index} appears twice in threads`;
    seen.add(t.index);
    if (!validState(t.plan, t.state)) return `thread #${t.index}: state ${stateProblem(t.plan, t.state)}`;
  }
  let lastSeq = 0;
  for (const tr of report.transitions) {
    if (tr.seq <= lastSeq) return `transitions must be in strictly increasing seq order: seq ${tr.seq} after ${lastSeq}`;
    lastSeq = tr.seq;
    for (const field of ['prev', 'next'] as const) {
      if (!validState(tr.plan, tr[field])) {
        return `transition seq ${tr.seq} (thread #${tr.index}): ${field} ${stateProblem(tr.plan, tr[field])}`;
      }
    }
  }
  if (Number.isNaN(Date.parse(report.sentAt))) return `sentAt "${report.sentAt}" is not a date`;
  return undefined;
}

/** Actor recorded for a pause or resume done at the worker itself (its own CLI), not through the registry. */
export function agentActor(worker: string): string {
  return `worker-agent:${worker}`;
}

function pauseReasonOf(reported: ThreadInfo, draining: boolean): PauseReason {
  // The agent's word first (it paused the thread, or saw why); an error pause needs its error.
  if (reported.pauseReason !== undefined && (reported.pauseReason !== 'error' || reported.lastError !== undefined)) return reported.pauseReason;
  if (reported.lastError !== undefined && /^(permanent|critical)\b/i.test(reported.lastError)) return 'error';
  if (draining) return 'drain';
  return reported.lastError !== undefined ? 'error' : 'manual';
}

export interface DecideOptions {
  nowMs: number;
  /** Host of the registry process (event metadata). */
  host?: string;
  /**
   * The report was listed before a pause, resume or drain the registry has recorded since: whether
   * its threads are paused is old news, so it neither pauses nor resumes any (the next report will).
   */
  listedBeforeCommand?: boolean;
}

export function decideReport(current: WorkerAggregate | undefined, report: WorkerReport, opts: DecideOptions): ReportDecision {
  const events: EventEnvelope[] = [];
  const name = report.name;
  const sentMs = Date.parse(report.sentAt);
  const now = new Date(opts.nowMs);
  const base: EventMetadata = opts.host ? { host: opts.host } : {};
  // Copy on write: most reports change nothing, and copying 16 threads per report was the
  // registry's busiest allocation. `agg` is the caller's until the first event is emitted; then
  // the worker record and the thread map are copied, and a thread record only when an event is
  // about to change it (an event changes at most the worker and the thread of its `index`), so a
  // report that moves one thread leaves one old record behind, not sixteen.
  let agg = current;
  let copiedThreads: Set<number> | undefined;
  const emit = (event: EventEnvelope): void => {
    events.push(event);
    if (agg === current && current !== undefined) {
      agg = { worker: { ...current.worker }, threads: new Map(current.threads) };
      copiedThreads = new Set();
    }
    const index = (event.data as { index?: unknown }).index;
    if (copiedThreads && typeof index === 'number' && !copiedThreads.has(index)) {
      copiedThreads.add(index);
      const t = agg!.threads.get(index);
      if (t) agg!.threads.set(index, { ...t });
    }
    agg = evolveWorker(agg, event);
  };
  const idFor = (type: string, index?: number) => deterministicEventId(sentMs, `${name}|${report.bootId}|${report.sentAt}|${type}|${index ?? ''}`);

  if (!agg) {
    emit(
      newEventFor(WorkerRegistered, { name, dest: report.dest, version: report.version, threads: report.threads.length }, base, {
        id: idFor('WorkerRegistered'),
        occurredAt: now,
      }),
    );
  } else {
    const w: WorkerAggregate['worker'] = agg.worker;
    if (w.expired) {
      const lastSeenMs = Date.parse(w.lastSeen);
      emit(
        newEventFor(WorkerReturned, { name, lastSeen: w.lastSeen, absentMs: Math.max(0, opts.nowMs - lastSeenMs) }, base, {
          id: idFor('WorkerReturned'),
          occurredAt: now,
        }),
      );
    }
    if (report.unreachable === undefined && w.unreachable !== undefined) {
      const sinceMs = w.unreachableSince === undefined ? opts.nowMs : Date.parse(w.unreachableSince);
      emit(newEventFor(WorkerReachable, { name, unreachableMs: Math.max(0, opts.nowMs - sinceMs) }, base, { id: idFor('WorkerReachable'), occurredAt: now }));
    }
    const changed: ('dest' | 'version' | 'threads')[] = [];
    // A report of an unreachable worker says nothing about its version or threads.
    if (report.unreachable === undefined) {
      if (w.dest !== report.dest) changed.push('dest');
      if (w.version !== report.version) changed.push('version');
      if (w.threads !== report.threads.length) changed.push('threads');
    }
    if (changed.length > 0) {
      emit(
        newEventFor(WorkerUpdated, { name, dest: report.dest, version: report.version, threads: report.threads.length, changed }, base, {
          id: idFor('WorkerUpdated'),
          occurredAt: now,
        }),
      );
    }
  }

  // The agent's transitions this registry has not recorded yet (seq numbers restart with each boot).
  const accepted = agg && agg.worker.bootId === report.bootId ? agg.worker.acceptedSeq : 0;
  let acceptedSeq = accepted;
  for (const tr of report.transitions) {
    if (tr.seq <= accepted) continue;
    const data = {
      worker: name,
      index: tr.index,
      plan: tr.plan,
      prev: tr.prev,
      next: tr.next,
      ...(tr.location !== undefined ? { location: tr.location } : {}),
      ...(tr.sectorId !== undefined ? { sectorId: tr.sectorId } : {}),
      ...(tr.event !== undefined ? { event: tr.event } : {}),
      ...(tr.failure !== undefined ? { failure: tr.failure } : {}),
    };
    const atMs = Date.parse(tr.at);
    emit(
      newEventFor(ThreadStateChanged, data, { ...base, causationId: transitionCausation(report.bootId, tr.seq) }, {
        id: deterministicEventId(atMs, `${name}|${report.bootId}|transition|${tr.seq}`),
        occurredAt: new Date(atMs),
      }),
    );
    acceptedSeq = tr.seq;
  }

  if (report.unreachable !== undefined) {
    if (agg!.worker.unreachable === undefined) {
      emit(newEventFor(WorkerUnreachable, { name, error: report.unreachable }, base, { id: idFor('WorkerUnreachable'), occurredAt: now }));
    }
    // Nothing to reconcile: the agent could not see the threads.
    return { events, next: agg, acceptedSeq };
  }

  // Reconcile with the threads as they are now (read through `agg`: an emit replaces it with a copy).
  for (const t of report.threads) {
    const cur = agg!.threads.get(t.index);
    // An Empty thread is recorded without a sector (see evolveWorker), whatever the worker still names.
    const sectorId = t.state === 'Empty' ? undefined : t.sectorId;
    if (!cur || cur.plan !== t.plan || cur.state !== t.state || cur.sectorId !== sectorId || cur.location !== t.location) {
      emit(
        newEventFor(
          ThreadStateChanged,
          {
            worker: name,
            index: t.index,
            plan: t.plan,
            prev: cur && cur.plan === t.plan ? cur.state : 'Empty',
            next: t.state,
            event: cur ? 'observed' : 'registered',
            ...(t.location !== undefined ? { location: t.location } : {}),
            ...(sectorId !== undefined ? { sectorId } : {}),
          },
          base,
          { id: idFor('ThreadStateChanged', t.index), occurredAt: now },
        ),
      );
    }
    const known = agg!.threads.get(t.index)!;
    const pausedNow = t.threadState === 'paused';
    if (opts.listedBeforeCommand) continue;
    if (pausedNow && !known.paused) {
      const reason = pauseReasonOf(t, agg!.worker.draining);
      emit(
        newEventFor(
          ThreadPaused,
          {
            worker: name,
            index: t.index,
            reason,
            ...(reason === 'manual' ? { actor: agentActor(name) } : {}),
            ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
          },
          reason === 'manual' ? { ...base, actor: agentActor(name) } : base,
          { id: idFor('ThreadPaused', t.index), occurredAt: now },
        ),
      );
    } else if (!pausedNow && known.paused) {
      emit(
        newEventFor(ThreadResumed, { worker: name, index: t.index, actor: agentActor(name) }, { ...base, actor: agentActor(name) }, {
          id: idFor('ThreadResumed', t.index),
          occurredAt: now,
        }),
      );
    }
  }

  // Only a draining worker can finish a drain: its id (a SHA-256) is not worth computing on every report.
  if (agg!.worker.draining) {
    const finished = drainFinishedEvent(agg!, opts.nowMs, base, idFor('WorkerDrainFinished'));
    if (finished) emit(finished);
  }
  // Nothing emitted: `next` is the caller's own aggregate, unchanged.
  return { events, next: agg, acceptedSeq };
}

/** WorkerDrainFinished when the worker is draining and every thread it has is paused; else undefined. */
export function drainFinishedEvent(agg: WorkerAggregate, nowMs: number, metadata: EventMetadata, id?: string): EventEnvelope | undefined {
  const w = agg.worker;
  if (!w.draining) return undefined;
  for (const t of agg.threads.values()) if (!t.paused) return undefined;
  const started = w.drainStartedAt ? Date.parse(w.drainStartedAt) : nowMs;
  return newEventFor(WorkerDrainFinished, { name: w.name, durationMs: Math.max(0, nowMs - started) }, metadata, {
    ...(id ? { id } : {}),
    occurredAt: new Date(nowMs),
  });
}
