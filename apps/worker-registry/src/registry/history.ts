// `worker history`: the recorded changes of a worker, a thread or a sector, as lines with their
// time, straight from the event log (the projection keeps only the present).
import type { RecordedEvent, WorkerHistoryEntry } from '@fleetvisor/contracts';
import { HISTORY_ENTRY_TYPES } from '@fleetvisor/contracts';
import { workerOfStream } from '../domain/worker-state';

type Data = Record<string, unknown>;
const TYPES = new Set<string>(HISTORY_ENTRY_TYPES);

export function historyEntry(e: RecordedEvent): WorkerHistoryEntry | undefined {
  if (!TYPES.has(e.type)) return undefined;
  const d = e.data as Data;
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const entry: WorkerHistoryEntry = { at: e.occurredAt, worker: workerOfStream(e.stream), type: e.type as WorkerHistoryEntry['type'] };
  if (typeof d['index'] === 'number') entry.index = d['index'];
  const put = <K extends keyof WorkerHistoryEntry>(k: K, v: WorkerHistoryEntry[K] | undefined) => {
    if (v !== undefined) entry[k] = v;
  };
  switch (e.type) {
    case 'ThreadStateChanged':
      put('sectorId', s('sectorId'));
      put('plan', s('plan') as WorkerHistoryEntry['plan']);
      put('prev', s('prev'));
      put('next', s('next'));
      put('event', s('event'));
      put('failure', d['failure'] as WorkerHistoryEntry['failure']);
      break;
    case 'ThreadPaused':
      put('reason', s('lastError') ? `${s('reason')}: ${s('lastError')}` : s('reason'));
      break;
    case 'ThreadResumed':
      put('next', s('state'));
      break;
    case 'WorkerRegistered':
      put('reason', `dest ${s('dest')}, version ${s('version')}, ${String(d['threads'])} threads`);
      break;
    case 'WorkerUpdated':
      put('reason', `${(d['changed'] as string[]).join(', ')} changed: dest ${s('dest')}, version ${s('version')}, ${String(d['threads'])} threads`);
      break;
    case 'WorkerExpired':
      put('reason', `silent since ${s('lastSeen')} (expiration ${String(d['expirationMs'])} ms)`);
      break;
    case 'WorkerReturned':
      put('reason', `back after ${String(d['absentMs'])} ms`);
      break;
    case 'WorkerUnreachable':
      put('reason', `worker admin API does not answer its agent: ${s('error')}`);
      break;
    case 'WorkerReachable':
      put('reason', `worker admin API answers again after ${String(d['unreachableMs'])} ms`);
      break;
    case 'WorkerDrainFinished':
      put('reason', `all threads paused after ${String(d['durationMs'])} ms`);
      break;
    default:
      break;
  }
  const actor = s('actor') ?? e.metadata.actor;
  if (actor !== undefined) entry.actor = actor;
  return entry;
}

/** A worker's history, optionally one thread's. */
export function workerHistory(events: readonly RecordedEvent[], index: number | undefined): WorkerHistoryEntry[] {
  const out: WorkerHistoryEntry[] = [];
  for (const e of events) {
    const h = historyEntry(e);
    if (!h) continue;
    if (index !== undefined && h.index !== index) continue;
    out.push(h);
  }
  return out;
}

/**
 * One sector's history on one worker: its transitions, and the pauses and resumes of the thread
 * while it was working on that sector.
 */
export function sectorHistory(events: readonly RecordedEvent[], sectorId: string): WorkerHistoryEntry[] {
  const current = new Map<number, string | undefined>();
  const out: WorkerHistoryEntry[] = [];
  for (const e of events) {
    const d = e.data as Data;
    const index = typeof d['index'] === 'number' ? d['index'] : undefined;
    if (e.type === 'ThreadStateChanged' && index !== undefined) {
      // Back in Empty, the thread's sector has ended (the event names the one that did).
      current.set(index, typeof d['sectorId'] === 'string' && d['next'] !== 'Empty' ? d['sectorId'] : undefined);
      if (d['sectorId'] === sectorId) out.push(historyEntry(e)!);
    } else if ((e.type === 'ThreadPaused' || e.type === 'ThreadResumed') && index !== undefined && current.get(index) === sectorId) {
      out.push({ ...historyEntry(e)!, sectorId });
    }
  }
  return out;
}
