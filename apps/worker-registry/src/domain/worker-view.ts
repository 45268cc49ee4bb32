// What `worker list` and `worker info` show: the recorded state (worker-state.ts) with the volatile
// part of the last report laid over it (running / waiting / idle, elapsed, stage, last error), which
// changes every report and so is never an event. Without a report since the registry started,
// the recorded state alone answers.
import type { ThreadInfo, WorkerSummary } from '@fleetvisor/contracts';
import type { ThreadRecord, WorkerAggregate } from './worker-state';

export interface ReportedThreads {
  /** The threads of the last report, by index. */
  byIndex: ReadonlyMap<number, ThreadInfo>;
  /** When the registry received it (ms). */
  atMs: number;
}

export interface ThreadCounts {
  empty: number;
  paused: number;
  running: number;
  waiting: number;
  errors: number;
}

export function indexThreads(threads: readonly ThreadInfo[]): Map<number, ThreadInfo> {
  const m = new Map<number, ThreadInfo>();
  for (const t of threads) m.set(t.index, t);
  return m;
}

/** One thread as `worker info` shows it. */
export function threadView(rec: ThreadRecord, reported: ReportedThreads | undefined, nowMs: number): ThreadInfo {
  const r = reported?.byIndex.get(rec.index);
  // The record wins on paused: a pause or resume done through the registry shows at once,
  // before the next report confirms it.
  const agrees = r !== undefined && (r.threadState === 'paused') === rec.paused;
  let threadState: ThreadInfo['threadState'];
  let elapsedMs: number | undefined;
  if (agrees) {
    threadState = r.threadState;
    if (r.elapsedMs !== undefined) elapsedMs = r.elapsedMs + Math.max(0, nowMs - reported!.atMs);
  } else {
    threadState = rec.paused ? 'paused' : rec.state === 'Empty' ? 'idle' : 'running';
    if (rec.paused && rec.pausedAt) elapsedMs = Math.max(0, nowMs - Date.parse(rec.pausedAt));
  }
  const lastError = r !== undefined ? r.lastError : rec.lastError;
  return {
    index: rec.index,
    ...(rec.location !== undefined ? { location: rec.location } : {}),
    ...(rec.sectorId !== undefined ? { sectorId: rec.sectorId } : {}),
    plan: rec.plan,
    threadState,
    ...(elapsedMs !== undefined ? { elapsedMs } : {}),
    state: rec.state,
    ...(agrees && r.stage !== undefined ? { stage: r.stage } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
  };
}

export function threadViews(agg: WorkerAggregate, reported: ReportedThreads | undefined, nowMs: number): ThreadInfo[] {
  return [...agg.threads.values()].sort((a, b) => a.index - b.index).map((t) => threadView(t, reported, nowMs));
}

export function countThreads(agg: WorkerAggregate, reported: ReportedThreads | undefined): ThreadCounts {
  const c: ThreadCounts = { empty: 0, paused: 0, running: 0, waiting: 0, errors: 0 };
  for (const rec of agg.threads.values()) {
    const v = threadView(rec, reported, 0);
    if (rec.state === 'Empty') c.empty++;
    if (v.threadState === 'paused') c.paused++;
    else if (v.threadState === 'running') c.running++;
    else if (v.threadState === 'waiting') c.waiting++;
    if (v.lastError !== undefined) c.errors++;
  }
  return c;
}

export function summaryView(agg: WorkerAggregate, counts: ThreadCounts, lastSeenMs: number, nowMs: number, expirationMs: number): WorkerSummary {
  const w = agg.worker;
  return {
    name: w.name,
    dest: w.dest,
    version: w.version,
    threads: w.threads,
    ...counts,
    lastPing: new Date(lastSeenMs).toISOString(),
    expired: w.expired || nowMs - lastSeenMs > expirationMs,
    draining: w.draining,
  };
}
