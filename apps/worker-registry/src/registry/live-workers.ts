// LiveWorkers: every worker the registry holds in memory, each with its recorded state (the fold of
// its stream), the stream version that state is at, its last report's volatile part and counts.
// Everything touching one worker runs through `queue` (a report, a proxied pause and the expiry check
// of the same worker never interleave). Last-seen times of reports wait in `seen` for the next flush.
import { CommandErrorCodes } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging';
import type { WorkerAggregate } from '../domain/worker-state';
import { countThreads, type ReportedThreads, type ThreadCounts } from '../domain/worker-view';
import { KeyedSerializer } from './keyed-serializer';

export interface LiveWorker {
  agg: WorkerAggregate;
  /** Version of stream worker-<name> that `agg` folds (the expected version of its next append). */
  version: number;
  lastSeenMs: number;
  reported: ReportedThreads | undefined;
  counts: ThreadCounts;
  /**
   * The last screened report handled in full or as `same` (its screen seq, 0 = none), the state it
   * left and the acceptedSeq it was answered with: a later `same` report of that seq is decided by
   * these alone while `agg` is still `baseAgg` (see WorkerReports.screened).
   */
  baseSeq: number;
  baseAgg: WorkerAggregate | undefined;
  baseAccepted: number;
  /**
   * The last pause, resume or drain this registry had the worker's agent carry out: the agent's boot
   * and its command count (AgentPause's answer). A report of that boot listed before it (a smaller
   * `controls`) does not undo it. Memory only: after a registry restart the next report decides.
   */
  commanded?: { bootId: string; controls: number };
}

/** Stream of a worker's events. */
export function workerStream(name: string): string {
  return `worker-${name}`;
}

function listNames(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} (and ${names.length - max} more)` : shown;
}

export class LiveWorkers {
  private readonly workers = new Map<string, LiveWorker>();
  /** Per-worker queue of everything that reads and changes one worker. */
  readonly queue = new KeyedSerializer();
  /** Last-seen times of reports not written yet, by worker. */
  readonly seen = new Map<string, number>();

  get size(): number {
    return this.workers.size;
  }

  get(name: string): LiveWorker | undefined {
    return this.workers.get(name);
  }

  has(name: string): boolean {
    return this.workers.has(name);
  }

  entries(): IterableIterator<[string, LiveWorker]> {
    return this.workers.entries();
  }

  values(): IterableIterator<LiveWorker> {
    return this.workers.values();
  }

  /** Worker names in code-unit order (the order of `worker list` and its pages). */
  sortedNames(): string[] {
    return [...this.workers.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Sets a worker's recorded state; its entry is kept (not reallocated on every change). */
  set(name: string, agg: WorkerAggregate, version: number, lastSeenMs: number, reported?: ReportedThreads): void {
    const live = this.workers.get(name);
    if (live) {
      live.agg = agg;
      live.version = version;
      live.lastSeenMs = lastSeenMs;
      live.reported = reported;
      countThreads(agg, reported, live.counts);
      return;
    }
    this.workers.set(name, { agg, version, lastSeenMs, reported, counts: countThreads(agg, reported), baseSeq: 0, baseAgg: undefined, baseAccepted: 0 });
  }

  delete(name: string): void {
    this.workers.delete(name);
    this.seen.delete(name);
  }

  markSeen(name: string, atMs: number): void {
    this.seen.set(name, atMs);
  }

  /** A worker by instance name, or by address (dest; the one seen last when several share it). */
  find(ref: string): [string, LiveWorker] | undefined {
    const byName = this.workers.get(ref);
    if (byName) return [ref, byName];
    let best: [string, LiveWorker] | undefined;
    for (const [name, w] of this.workers) {
      if (w.agg.worker.dest === ref && (!best || w.lastSeenMs > best[1].lastSeenMs)) best = [name, w];
    }
    return best;
  }

  /** As find, or a not_found CommandFailure naming the workers there are. */
  resolve(ref: string): [string, LiveWorker] {
    const found = this.find(ref);
    if (!found) throw this.unknownWorker(ref);
    return found;
  }

  unknownWorker(ref: string): CommandFailure {
    const names = [...this.workers.keys()].sort();
    return new CommandFailure(
      CommandErrorCodes.notFound,
      names.length === 0 ? `unknown worker "${ref}": no workers are registered` : `unknown worker "${ref}" (by name or address); workers: ${listNames(names)}`,
    );
  }
}
