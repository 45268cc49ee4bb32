// damocles-worker's WorkerList output -> contracts' ThreadInfo, and the transitions between two
// consecutive snapshots (bridge mode sees states, not events, so it derives them by diffing).
//
// Wire facts (damocles-worker/src/rpc/worker/mod.rs): WorkerInfo { location, plan, job_id?,
// index, thread_state, job_state, job_stage?, last_error? }. thread_state is internally tagged
// since Aug 2023: {"state":"Running","elapsed":100,"proc":"..."} / {"state":"Idle"}, elapsed in
// seconds; the release before used {"type":"Running","secs":100}. Both are read. A thread without
// a job has job_state "" and location "-" when it has no store.
import { SEALING_PLAN_PATTERN, SectorId, STATE_NAME_PATTERN, stateFitsPlan, type ThreadInfo } from '@fleetvisor/contracts';
import type { NewTransition } from '../report/transition-outbox';

export interface ParsedThreads {
  threads: ThreadInfo[];
  /** Why items were left out (malformed item, a state outside its known plan). */
  skipped: string[];
}

const RUN_STATES: Record<string, ThreadInfo['threadState']> = { Idle: 'idle', Paused: 'paused', Running: 'running', Waiting: 'waiting' };
const STATE_NAME = new RegExp(STATE_NAME_PATTERN);
const PLAN_NAME = new RegExp(SEALING_PLAN_PATTERN);
const SECTOR_ID = new RegExp(SectorId().pattern ?? '^.+$');

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function runState(v: unknown): { threadState: ThreadInfo['threadState']; elapsedMs: number | undefined } | undefined {
  const o = obj(v);
  if (!o) return undefined;
  const tag = typeof o['state'] === 'string' ? o['state'] : o['type'];
  const secs = typeof o['elapsed'] === 'number' ? o['elapsed'] : o['secs'];
  const threadState = typeof tag === 'string' ? RUN_STATES[tag.replace(/At$/, '')] : undefined;
  if (!threadState) return undefined;
  return { threadState, elapsedMs: typeof secs === 'number' && Number.isFinite(secs) && secs >= 0 ? Math.round(secs * 1000) : undefined };
}

export function parseWorkerList(raw: unknown): ParsedThreads {
  if (!Array.isArray(raw)) throw new Error('WorkerList did not return an array');
  const threads: ThreadInfo[] = [];
  const skipped: string[] = [];
  for (const item of raw) {
    const o = obj(item);
    const index = o?.['index'];
    if (!o || typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 65_535) {
      skipped.push(`malformed item ${JSON.stringify(item)?.slice(0, 200)}`);
      continue;
    }
    const plan = o['plan'];
    // A plan Fleetvisor has no state list for (niporep, supra, a future one) is reported as given.
    if (typeof plan !== 'string' || plan.length > 32 || !PLAN_NAME.test(plan)) {
      skipped.push(`thread #${index}: plan ${JSON.stringify(plan)?.slice(0, 100)} is not a plan name`);
      continue;
    }
    const rs = runState(o['thread_state']);
    if (!rs) {
      skipped.push(`thread #${index}: unreadable thread_state ${JSON.stringify(o['thread_state'])}`);
      continue;
    }
    const jobState = typeof o['job_state'] === 'string' && o['job_state'] !== '' ? o['job_state'] : 'Empty';
    if (!STATE_NAME.test(jobState) || !stateFitsPlan(plan, jobState)) {
      skipped.push(`thread #${index}: job_state "${jobState}" is not a state of plan ${plan}`);
      continue;
    }
    const info: ThreadInfo = { index, plan, threadState: rs.threadState, state: jobState };
    if (rs.elapsedMs !== undefined) info.elapsedMs = rs.elapsedMs;
    const location = o['location'];
    if (typeof location === 'string' && location !== '' && location !== '-') info.location = location.slice(0, 1024);
    const jobId = o['job_id'];
    if (typeof jobId === 'string' && SECTOR_ID.test(jobId) && jobId.length <= 100) info.sectorId = jobId;
    const stage = o['job_stage'];
    if (typeof stage === 'string' && stage !== '' && stage !== '-') info.stage = stage.slice(0, 64);
    const lastError = o['last_error'];
    if (typeof lastError === 'string' && lastError !== '') info.lastError = lastError.slice(0, 2000);
    threads.push(info);
  }
  threads.sort((a, b) => a.index - b.index);
  return { threads, skipped };
}

/**
 * Transitions between two snapshots of the same worker: a thread whose job state changed on the
 * same sector moved prev -> next. A thread whose sector is gone (no job, or another sector) ended
 * that task: its sector moved from its last seen state to Empty (damocles drops the job after its
 * last state, so a poll rarely sees Finished; whether it finished or was aborted is not known here),
 * and a new sector is reported from Empty to where it is now. No event name: bridge mode does not see it.
 */
export function diffSnapshots(before: readonly ThreadInfo[], after: readonly ThreadInfo[], at: Date): NewTransition[] {
  const prevByIndex = new Map(before.map((t) => [t.index, t]));
  const out: NewTransition[] = [];
  for (const t of after) {
    const p = prevByIndex.get(t.index);
    if (!p || p.plan !== t.plan) continue;
    let prev: string;
    if (p.sectorId === t.sectorId) {
      if (p.state === t.state) continue;
      prev = p.state;
    } else {
      if (p.sectorId !== undefined && p.state !== 'Empty') {
        const end: NewTransition = { index: t.index, plan: t.plan, prev: p.state, next: 'Empty', at: at.toISOString(), sectorId: p.sectorId };
        if (p.location !== undefined) end.location = p.location;
        out.push(end);
      }
      if (t.sectorId === undefined || t.state === 'Empty') continue; // nothing new yet
      prev = 'Empty';
    }
    const tr: NewTransition = { index: t.index, plan: t.plan, prev, next: t.state, at: at.toISOString() };
    if (t.location !== undefined) tr.location = t.location;
    if (t.sectorId !== undefined) tr.sectorId = t.sectorId;
    out.push(tr);
  }
  return out;
}
