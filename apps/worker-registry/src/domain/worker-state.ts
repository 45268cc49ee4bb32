// The state of one sealing worker and its threads as the event log says it is, and the one fold
// (`evolveWorker`) that produces it. The live registry and the projection tables both use this
// fold, so a rebuild from the log gives exactly the live state. Heartbeat-only facts (last-seen,
// the volatile part of each thread: running/waiting, elapsed, stage) are not here: see worker-view.ts.
import { HISTORY_ENTRY_TYPES, type EventEnvelope, type EventMetadata, type PauseReason } from '@fleetvisor/contracts';

export interface WorkerRecord {
  name: string;
  dest: string;
  version: string;
  /** Thread count as last reported. */
  threads: number;
  registeredAt: string;
  expired: boolean;
  draining: boolean;
  drainStartedAt?: string;
  /** A drain finished and no thread was resumed since (asking to drain again records nothing). */
  drained: boolean;
  /** Agent boot whose transitions were recorded last, and the highest seq recorded for it. */
  bootId?: string;
  acceptedSeq: number;
  lastEventAt: string;
  /** Last report as the events know it (registration, expiry, return); the registry refreshes it from heartbeats. */
  lastSeen: string;
  /** The agent reports that the worker's admin API does not answer: the error (WorkerUnreachable), and since when. */
  unreachable?: string;
  unreachableSince?: string;
}

export interface ThreadRecord {
  worker: string;
  index: number;
  /** A plan of SEALING_PLANS, or another damocles plan as the worker names it. */
  plan: string;
  state: string;
  location?: string;
  sectorId?: string;
  paused: boolean;
  pausedAt?: string;
  pauseReason?: PauseReason;
  lastError?: string;
  updatedAt: string;
}

export interface WorkerAggregate {
  worker: WorkerRecord;
  threads: Map<number, ThreadRecord>;
}

/** The event types this fold reads (worker area): those `worker history` shows. */
export const WORKER_EVENT_TYPES = HISTORY_ENTRY_TYPES;

/** What an envelope must have for the fold (EventEnvelope and RecordedEvent both do). */
export type FoldableEvent = Pick<EventEnvelope, 'type' | 'data' | 'metadata' | 'occurredAt'>;

/**
 * Transitions are recorded with `causationId = transition:<bootId>:<seq>`, so the fold knows which
 * agent transitions are in the log (after a restart too) without a column in every event's data.
 */
export const TRANSITION_CAUSATION_PREFIX = 'transition:';

export function transitionCausation(bootId: string, seq: number): string {
  return `${TRANSITION_CAUSATION_PREFIX}${bootId}:${seq}`;
}

export function parseTransitionCausation(metadata: EventMetadata | undefined): { bootId: string; seq: number } | undefined {
  const c = metadata?.causationId;
  if (!c || !c.startsWith(TRANSITION_CAUSATION_PREFIX)) return undefined;
  const rest = c.slice(TRANSITION_CAUSATION_PREFIX.length);
  const colon = rest.lastIndexOf(':');
  const seq = Number(rest.slice(colon + 1));
  if (colon <= 0 || !Number.isSafeInteger(seq) || seq < 1) return undefined;
  return { bootId: rest.slice(0, colon), seq };
}

export function cloneAggregate(agg: WorkerAggregate): WorkerAggregate {
  const threads = new Map<number, ThreadRecord>();
  for (const [i, t] of agg.threads) threads.set(i, { ...t });
  return { worker: { ...agg.worker }, threads };
}

type Data = Record<string, unknown>;
const str = (d: Data, k: string): string | undefined => (typeof d[k] === 'string' ? (d[k] as string) : undefined);

/**
 * Applies one event to a worker. Mutates and returns `agg` (or a new aggregate); undefined when the
 * worker is removed (or was never registered and the event cannot create it).
 */
export function evolveWorker(agg: WorkerAggregate | undefined, event: FoldableEvent): WorkerAggregate | undefined {
  const d = event.data as Data;
  const at = event.occurredAt;
  if (event.type === 'WorkerRegistered') {
    const worker: WorkerRecord = {
      name: d['name'] as string,
      dest: d['dest'] as string,
      version: d['version'] as string,
      threads: d['threads'] as number,
      registeredAt: at,
      expired: false,
      draining: false,
      drainStartedAt: undefined,
      drained: false,
      bootId: undefined,
      acceptedSeq: 0,
      lastEventAt: at,
      lastSeen: at,
      unreachable: undefined,
      unreachableSince: undefined,
    };
    if (agg) {
      // Registered again without a removal in between (e.g. the log was edited): keep the threads.
      agg.worker = { ...worker, registeredAt: agg.worker.registeredAt, bootId: agg.worker.bootId, acceptedSeq: agg.worker.acceptedSeq };
      return agg;
    }
    return { worker, threads: new Map() };
  }
  if (!agg) return undefined;
  const w = agg.worker;
  w.lastEventAt = at;
  switch (event.type) {
    case 'WorkerUpdated': {
      w.dest = d['dest'] as string;
      w.version = d['version'] as string;
      w.threads = d['threads'] as number;
      for (const i of [...agg.threads.keys()]) if (i >= w.threads) agg.threads.delete(i);
      return agg;
    }
    case 'ThreadStateChanged': {
      const index = d['index'] as number;
      const prev = agg.threads.get(index);
      // A thread back in Empty has no task: the sector of the event is the one that ended.
      const sectorId = d['next'] === 'Empty' ? undefined : str(d, 'sectorId');
      const failure = d['failure'] as { desc: string } | undefined;
      // A failure sets the error; progress to another state clears it; a same-state note keeps it.
      const lastError = failure ? failure.desc : d['prev'] !== d['next'] ? undefined : prev?.lastError;
      if (prev) {
        // Updated in place: a rebuild folds a million of these, and a new record per event was most
        // of its garbage. (Callers that must keep the old state fold into a copy: cloneAggregate.)
        prev.plan = d['plan'] as string;
        prev.state = d['next'] as string;
        prev.location = str(d, 'location');
        prev.sectorId = sectorId;
        prev.lastError = lastError;
        prev.updatedAt = at;
      } else {
        // Every field assigned, undefined included: objects keep one shape (no `delete`, which turns
        // V8 objects into slow, big dictionaries: 80,000 threads live in memory).
        const t: ThreadRecord = {
          worker: w.name,
          index,
          plan: d['plan'] as string,
          state: d['next'] as string,
          location: str(d, 'location'),
          sectorId,
          paused: false,
          pausedAt: undefined,
          pauseReason: undefined,
          lastError,
          updatedAt: at,
        };
        agg.threads.set(index, t);
      }
      const cause = parseTransitionCausation(event.metadata);
      if (cause) {
        w.acceptedSeq = w.bootId === cause.bootId ? Math.max(w.acceptedSeq, cause.seq) : cause.seq;
        w.bootId = cause.bootId;
      }
      return agg;
    }
    case 'ThreadPaused': {
      const t = agg.threads.get(d['index'] as number);
      if (!t) return agg;
      t.paused = true;
      t.pausedAt = at;
      t.pauseReason = d['reason'] as PauseReason;
      const lastError = str(d, 'lastError');
      if (lastError !== undefined) t.lastError = lastError;
      t.updatedAt = at;
      return agg;
    }
    case 'ThreadResumed': {
      const t = agg.threads.get(d['index'] as number);
      if (!t) return agg;
      t.paused = false;
      w.drained = false;
      t.pausedAt = undefined;
      t.pauseReason = undefined;
      t.lastError = undefined;
      const state = str(d, 'state');
      if (state !== undefined) t.state = state;
      t.updatedAt = at;
      return agg;
    }
    case 'WorkerExpired':
      w.expired = true;
      // Its last report (heartbeats are not events): what WorkerReturned measures the absence from.
      if (typeof d['lastSeen'] === 'string') w.lastSeen = d['lastSeen'];
      return agg;
    case 'WorkerReturned':
      w.expired = false;
      w.lastSeen = at;
      return agg;
    case 'WorkerUnreachable':
      w.unreachable = d['error'] as string;
      w.unreachableSince = at;
      return agg;
    case 'WorkerReachable':
      w.unreachable = undefined;
      w.unreachableSince = undefined;
      return agg;
    case 'WorkerRemoved':
      return undefined;
    case 'WorkerDrainStarted':
      w.draining = true;
      w.drained = false;
      w.drainStartedAt = at;
      return agg;
    case 'WorkerDrainFinished':
      w.draining = false;
      w.drained = true;
      w.drainStartedAt = undefined;
      return agg;
    default:
      return agg;
  }
}

/** Folds a whole stream (e.g. readStream of worker-<name>) from nothing. */
export function foldWorker(events: readonly FoldableEvent[]): WorkerAggregate | undefined {
  let agg: WorkerAggregate | undefined;
  for (const e of events) agg = evolveWorker(agg, e);
  return agg;
}

/** Name of the worker an event belongs to (stream worker-<name>). */
export function workerOfStream(stream: string): string {
  return stream.startsWith('worker-') ? stream.slice('worker-'.length) : stream;
}
