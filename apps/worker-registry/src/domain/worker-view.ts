// What `worker list` and `worker info` show: the recorded state (worker-state.ts) with the volatile
// part of the last report laid over it (running / waiting / idle, elapsed, stage, last error), which
// changes every report and so is never an event. Without a report since the registry started,
// the recorded state alone answers.
import { THREAD_RUN_STATES, type ThreadInfo, type WorkerSummary } from '@fleetvisor/contracts';
import type { ThreadRecord, WorkerAggregate } from './worker-state';

type RunState = ThreadInfo['threadState'];
/** Run-state code of a thread without one (report-screen.ts uses the same codes: THREAD_RUN_STATES order). */
export const NO_REPORT = 255;
/** Read once: a named import of the contracts barrel is a getter call on every use (CommonJS re-exports). */
const RUN_STATES: readonly RunState[] = THREAD_RUN_STATES;
const RUN_STATE_CODE = new Map<string, number>(THREAD_RUN_STATES.map((s, i) => [s, i]));

/** Stage names are a small set: one copy each instead of one per thread per report. */
const STAGES = new Map<string, string>();
const MAX_INTERNED_STAGES = 4_096;
function internStage(stage: string): string {
  const known = STAGES.get(stage);
  if (known !== undefined) return known;
  if (STAGES.size < MAX_INTERNED_STAGES) STAGES.set(stage, stage);
  return stage;
}

/**
 * The volatile part of a worker's last report, compact: one slot per thread in typed arrays and
 * two string arrays, updated in place by each report (the parsed report itself is not kept, so it
 * dies young instead of being promoted and dropped a report later; 80,000 threads would otherwise
 * be 80,000 objects of parsed JSON living one report interval each).
 */
export class ReportedThreads {
  /** When the registry received the last report (ms). */
  atMs = 0;
  private indexes: Int32Array = new Int32Array(0);
  private runStates: Uint8Array = new Uint8Array(0);
  /** NaN: no elapsedMs in the report. */
  private elapsed: Float64Array = new Float64Array(0);
  private stages: (string | undefined)[] = [];
  private errors: (string | undefined)[] = [];
  /** indexes[i] === i for every slot: a thread's slot is its index. */
  private dense = true;

  static of(threads: readonly ThreadInfo[], atMs: number): ReportedThreads {
    const r = new ReportedThreads();
    r.update(threads, atMs);
    return r;
  }

  /** Takes a new report's volatile fields, reusing the arrays (and equal strings) of the last one. */
  update(threads: readonly ThreadInfo[], atMs: number): void {
    const n = threads.length;
    if (this.indexes.length !== n) {
      this.indexes = new Int32Array(n);
      this.runStates = new Uint8Array(n);
      this.elapsed = new Float64Array(n);
      this.stages = new Array<string | undefined>(n).fill(undefined);
      this.errors = new Array<string | undefined>(n).fill(undefined);
    }
    let dense = true;
    for (let i = 0; i < n; i++) {
      const t = threads[i]!;
      this.indexes[i] = t.index;
      if (t.index !== i) dense = false;
      this.runStates[i] = RUN_STATE_CODE.get(t.threadState) ?? NO_REPORT;
      this.elapsed[i] = t.elapsedMs ?? NaN;
      this.stages[i] = t.stage === undefined ? undefined : t.stage === this.stages[i] ? this.stages[i] : internStage(t.stage);
      // Keep the stored copy while the text is the same (the usual case: an error stays for many reports).
      if (t.lastError !== this.errors[i]) this.errors[i] = t.lastError;
    }
    this.dense = dense;
    this.atMs = atMs;
  }

  /**
   * Takes the volatile fields of a report whose threads are the last report's, in the same order
   * (a report the screen found `same`): run-state codes, elapsed (NaN = none) and, when some
   * changed, [stage, lastError] per thread (undefined: the texts of the last report still hold).
   */
  updateVolatile(runStates: Uint8Array, elapsed: Float64Array, texts: readonly (string | undefined)[] | undefined, atMs: number): void {
    const n = this.indexes.length;
    if (runStates.length !== n || elapsed.length !== n || (texts !== undefined && texts.length !== 2 * n)) {
      throw new Error(`volatile update of ${runStates.length} threads for a report of ${n}`);
    }
    this.runStates.set(runStates);
    this.elapsed.set(elapsed);
    if (texts) {
      for (let i = 0; i < n; i++) {
        const stage = texts[2 * i];
        this.stages[i] = stage === undefined ? undefined : stage === this.stages[i] ? this.stages[i] : internStage(stage);
        const error = texts[2 * i + 1];
        if (error !== this.errors[i]) this.errors[i] = error;
      }
    }
    this.atMs = atMs;
  }

  /** Slot of a thread index in the last report, or -1. */
  slot(index: number): number {
    if (this.dense) return index >= 0 && index < this.indexes.length ? index : -1;
    return this.indexes.indexOf(index);
  }

  runState(slot: number): RunState | undefined {
    const code = this.runStates[slot]!;
    return code === NO_REPORT ? undefined : RUN_STATES[code];
  }

  elapsedMs(slot: number): number | undefined {
    const e = this.elapsed[slot]!;
    return Number.isNaN(e) ? undefined : e;
  }

  stage(slot: number): string | undefined {
    return this.stages[slot];
  }

  lastError(slot: number): string | undefined {
    return this.errors[slot];
  }
}

export interface ThreadCounts {
  empty: number;
  paused: number;
  running: number;
  waiting: number;
  errors: number;
}

/** The run state shown for a thread, and whether it comes from the report (which agrees with the record on paused). */
function shownRunState(rec: ThreadRecord, reported: ReportedThreads | undefined, slot: number): { state: RunState; agrees: boolean } {
  const rs = slot >= 0 ? reported!.runState(slot) : undefined;
  // The record wins on paused: a pause or resume done through the registry shows at once,
  // before the next report confirms it.
  if (rs !== undefined && (rs === 'paused') === rec.paused) return { state: rs, agrees: true };
  return { state: rec.paused ? 'paused' : rec.state === 'Empty' ? 'idle' : 'running', agrees: false };
}

/**
 * One thread as `worker info` shows it. `stale`: the worker is expired or its agent cannot reach it,
 * so what the thread does now is not known; a thread not recorded as paused shows `unknown`.
 */
export function threadView(rec: ThreadRecord, reported: ReportedThreads | undefined, nowMs: number, stale = false): ThreadInfo {
  const slot = reported ? reported.slot(rec.index) : -1;
  const shown = shownRunState(rec, reported, slot);
  const agrees = shown.agrees && !stale;
  const threadState: ThreadInfo['threadState'] = stale && !rec.paused ? 'unknown' : shown.state;
  let elapsedMs: number | undefined;
  if (agrees) {
    const e = reported!.elapsedMs(slot);
    if (e !== undefined) elapsedMs = e + Math.max(0, nowMs - reported!.atMs);
  } else if (threadState === 'paused' && rec.pausedAt) {
    elapsedMs = Math.max(0, nowMs - Date.parse(rec.pausedAt));
  }
  const lastError = slot >= 0 ? reported!.lastError(slot) : rec.lastError;
  const stage = agrees ? reported!.stage(slot) : undefined;
  return {
    index: rec.index,
    ...(rec.location !== undefined ? { location: rec.location } : {}),
    ...(rec.sectorId !== undefined ? { sectorId: rec.sectorId } : {}),
    plan: rec.plan,
    threadState,
    ...(elapsedMs !== undefined ? { elapsedMs } : {}),
    ...(threadState === 'paused' && rec.pauseReason !== undefined ? { pauseReason: rec.pauseReason } : {}),
    state: rec.state,
    ...(stage !== undefined ? { stage } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
  };
}

export function threadViews(agg: WorkerAggregate, reported: ReportedThreads | undefined, nowMs: number, stale = false): ThreadInfo[] {
  return [...agg.threads.values()].sort((a, b) => a.index - b.index).map((t) => threadView(t, reported, nowMs, stale));
}

/** The worker is silent past the expiration (or recorded expired), or its agent cannot reach it: its threads' run states are not known. */
export function isStale(agg: WorkerAggregate, lastSeenMs: number, nowMs: number, expirationMs: number): boolean {
  const w = agg.worker;
  return w.expired || w.unreachable !== undefined || nowMs - lastSeenMs > expirationMs;
}

/** Counts for `worker list`, written into `into` (no view objects built: this runs on every report). */
export function countThreads(agg: WorkerAggregate, reported: ReportedThreads | undefined, into?: ThreadCounts): ThreadCounts {
  const c: ThreadCounts = into ?? { empty: 0, paused: 0, running: 0, waiting: 0, errors: 0 };
  c.empty = c.paused = c.running = c.waiting = c.errors = 0;
  for (const rec of agg.threads.values()) {
    const slot = reported ? reported.slot(rec.index) : -1;
    const { state } = shownRunState(rec, reported, slot);
    if (rec.state === 'Empty') c.empty++;
    if (state === 'paused') c.paused++;
    else if (state === 'running') c.running++;
    else if (state === 'waiting') c.waiting++;
    if ((slot >= 0 ? reported!.lastError(slot) : rec.lastError) !== undefined) c.errors++;
  }
  return c;
}

export function summaryView(agg: WorkerAggregate, counts: ThreadCounts, lastSeenMs: number, nowMs: number, expirationMs: number): WorkerSummary {
  const w = agg.worker;
  // Nothing is known to run or wait on a worker nobody can see.
  const stale = isStale(agg, lastSeenMs, nowMs, expirationMs);
  return {
    name: w.name,
    dest: w.dest,
    version: w.version,
    threads: w.threads,
    ...counts,
    ...(stale ? { running: 0, waiting: 0 } : {}),
    lastPing: new Date(lastSeenMs).toISOString(),
    expired: w.expired || nowMs - lastSeenMs > expirationMs,
    draining: w.draining,
    ...(w.unreachable !== undefined ? { unreachable: w.unreachable } : {}),
  };
}
