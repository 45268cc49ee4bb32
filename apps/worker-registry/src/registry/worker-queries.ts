// WorkerQueries: list, list-page, info and errors from the state in memory; history from the log
// (a removed worker's history is still there), sectors found through the projection's index.
import {
  CommandErrorCodes,
  WORKER_LIST_PAGE_MAX,
  type CommandRequestOf,
  type CommandResultOf,
  type WorkerErrors,
  type WorkerHistory,
  type WorkerHistoryEntry,
  type WorkerInfo,
  type WorkerList,
  type WorkerListPage,
  type WorkerSummary,
} from '@fleetvisor/contracts';
import type { EventStore } from '@fleetvisor/event-store';
import { CommandFailure } from '@fleetvisor/messaging';
import { isStale, summaryView, threadViews } from '../domain/worker-view';
import { sectorHistory, workerHistory } from './history';
import { workerStream, type LiveWorkers } from './live-workers';
import { unknownIndex } from './thread-lookup';

/** Which (worker, thread) ran a sector (the projection's sector index). */
export interface SectorIndex {
  workersOfSector(sectorId: string): Promise<{ worker: string; index: number }[]>;
}

export interface WorkerQueriesOptions {
  /** A worker silent for longer shows as expired. */
  expirationMs: number;
  clock?: () => number;
}

const DEFAULT_HISTORY_LIMIT = 1_000;
/** Below NATS's default max payload (1 MiB), with room for the reply envelope. */
const MAX_LIST_REPLY_BYTES = 900 * 1024;

export class WorkerQueries {
  private readonly now: () => number;

  constructor(
    private readonly live: LiveWorkers,
    private readonly log: Pick<EventStore, 'readStream'>,
    private readonly sectors: SectorIndex,
    private readonly opts: WorkerQueriesOptions,
  ) {
    this.now = opts.clock ?? Date.now;
  }

  list(): CommandResultOf<typeof WorkerList> {
    const workers = this.summaries(this.live.sortedNames());
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
    const names = this.live.sortedNames();
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

  info(req: CommandRequestOf<typeof WorkerInfo>): CommandResultOf<typeof WorkerInfo> {
    const [, w] = this.live.resolve(req.worker);
    const now = this.now();
    const stale = isStale(w.agg, w.lastSeenMs, now, this.opts.expirationMs);
    return { worker: summaryView(w.agg, w.counts, w.lastSeenMs, now, this.opts.expirationMs), threads: threadViews(w.agg, w.reported, now, stale) };
  }

  errors(): CommandResultOf<typeof WorkerErrors> {
    const now = this.now();
    const threads: CommandResultOf<typeof WorkerErrors>['threads'] = [];
    for (const name of this.live.sortedNames()) {
      const w = this.live.get(name)!;
      const expired = w.agg.worker.expired || now - w.lastSeenMs > this.opts.expirationMs;
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
      const known = this.live.find(req.worker);
      const name = known?.[0] ?? req.worker;
      const { events, currentVersion } = await this.log.readStream(workerStream(name));
      if (currentVersion === 0) throw this.live.unknownWorker(req.worker);
      if (req.index !== undefined && known && !known[1].agg.threads.has(req.index) && !events.some((e) => (e.data as { index?: number }).index === req.index)) {
        throw unknownIndex(name, known[1].agg);
      }
      entries = workerHistory(events, req.index);
    } else {
      const sectorId = req.sectorId!;
      const places = await this.sectors.workersOfSector(sectorId);
      if (places.length === 0) throw new CommandFailure(CommandErrorCodes.notFound, `no worker has recorded sector ${sectorId}`);
      entries = [];
      for (const worker of new Set(places.map((p) => p.worker))) {
        const { events } = await this.log.readStream(workerStream(worker));
        entries.push(...sectorHistory(events, sectorId));
      }
      entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    }
    const limit = req.limit ?? DEFAULT_HISTORY_LIMIT;
    const truncated = entries.length > limit;
    return { entries: truncated ? entries.slice(entries.length - limit) : entries, truncated };
  }

  private summaries(names: readonly string[]): WorkerSummary[] {
    const now = this.now();
    const out: WorkerSummary[] = [];
    for (const n of names) {
      const w = this.live.get(n)!;
      out.push(summaryView(w.agg, w.counts, w.lastSeenMs, now, this.opts.expirationMs));
    }
    return out;
  }
}
