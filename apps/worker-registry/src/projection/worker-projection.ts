// WorkerRegistryProjection: the workers and threads of the log, folded with evolveWorker (the
// same fold the live registry uses) into fv_proj_workers / fv_proj_threads, plus the sector ->
// worker thread index of fv_proj_worker_sectors. Applied by ProjectionRunner, each batch in the
// transaction that moves its checkpoint.
//
// Speed (a rebuild replays every transition): the folded workers are cached between batches and
// only the rows an event touched are written, a few set-based statements per batch. The cache is
// dropped whenever a batch does not continue where the last one ended (a rolled-back batch is
// retried, a rebuild resets), so it never holds state the tables do not.
import type { ClientBase, Pool } from 'pg';
import type { RecordedEvent, SealingPlan, PauseReason } from '@fleetvisor/contracts';
import { ALL_EVENT_TYPES, compareCheckpoints, START_CHECKPOINT, type Projection, type ProjectionTx } from '@fleetvisor/event-store';
import { evolveWorker, workerOfStream, WORKER_EVENT_TYPES, type ThreadRecord, type WorkerAggregate, type WorkerRecord } from '../domain/worker-state';

export const WORKER_PROJECTION_NAME = 'worker-registry';

const SQL = {
  loadWorkers: `SELECT name, dest, version, threads, registered_at, expired, draining, drain_started_at, drained, boot_id, accepted_seq, last_event_at, last_seen
    FROM fv_proj_workers WHERE name = ANY($1::text[])`,
  loadThreads: `SELECT worker, idx, plan, state, location, sector_id, paused, paused_at, pause_reason, last_error, updated_at
    FROM fv_proj_threads WHERE worker = ANY($1::text[])`,
  allWorkers: `SELECT name, dest, version, threads, registered_at, expired, draining, drain_started_at, drained, boot_id, accepted_seq, last_event_at, last_seen
    FROM fv_proj_workers`,
  allThreads: `SELECT worker, idx, plan, state, location, sector_id, paused, paused_at, pause_reason, last_error, updated_at FROM fv_proj_threads`,
  upsertWorkers: `INSERT INTO fv_proj_workers AS w (name, dest, version, threads, registered_at, expired, draining, drain_started_at, drained, boot_id, accepted_seq, last_event_at, last_seen)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::bool[], $7::bool[], $8::timestamptz[], $9::bool[], $10::text[], $11::bigint[], $12::timestamptz[], $13::timestamptz[])
    ON CONFLICT (name) DO UPDATE SET dest = excluded.dest, version = excluded.version, threads = excluded.threads,
      registered_at = excluded.registered_at, expired = excluded.expired, draining = excluded.draining,
      drain_started_at = excluded.drain_started_at, drained = excluded.drained, boot_id = excluded.boot_id, accepted_seq = excluded.accepted_seq,
      last_event_at = excluded.last_event_at, last_seen = greatest(w.last_seen, excluded.last_seen)`,
  deleteWorkers: `WITH gone AS (DELETE FROM fv_proj_workers WHERE name = ANY($1::text[]) RETURNING name)
    DELETE FROM fv_proj_threads WHERE worker = ANY($1::text[])`,
  upsertThreads: `INSERT INTO fv_proj_threads AS t (worker, idx, plan, state, location, sector_id, paused, paused_at, pause_reason, last_error, updated_at)
      SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::timestamptz[], $9::text[], $10::text[], $11::timestamptz[])
    ON CONFLICT (worker, idx) DO UPDATE SET plan = excluded.plan, state = excluded.state, location = excluded.location,
      sector_id = excluded.sector_id, paused = excluded.paused, paused_at = excluded.paused_at, pause_reason = excluded.pause_reason,
      last_error = excluded.last_error, updated_at = excluded.updated_at`,
  deleteThreads: `DELETE FROM fv_proj_threads t USING unnest($1::text[], $2::int[]) AS d(worker, idx) WHERE t.worker = d.worker AND t.idx = d.idx`,
  upsertSectors: `INSERT INTO fv_proj_worker_sectors AS s (sector_id, worker, idx, first_at, last_at)
      SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[])
    ON CONFLICT (sector_id, worker, idx) DO UPDATE SET first_at = least(s.first_at, excluded.first_at), last_at = greatest(s.last_at, excluded.last_at)`,
  flushLastSeen: `UPDATE fv_proj_workers w SET last_seen = greatest(w.last_seen, v.seen)
    FROM unnest($1::text[], $2::timestamptz[]) AS v(name, seen) WHERE w.name = v.name RETURNING w.name`,
  reset: 'TRUNCATE fv_proj_workers, fv_proj_threads, fv_proj_worker_sectors',
} as const;

interface WorkerRow {
  name: string;
  dest: string;
  version: string;
  threads: number;
  registered_at: Date;
  expired: boolean;
  draining: boolean;
  drain_started_at: Date | null;
  drained: boolean;
  boot_id: string | null;
  accepted_seq: string;
  last_event_at: Date;
  last_seen: Date;
}

interface ThreadRow {
  worker: string;
  idx: number;
  plan: string;
  state: string;
  location: string | null;
  sector_id: string | null;
  paused: boolean;
  paused_at: Date | null;
  pause_reason: string | null;
  last_error: string | null;
  updated_at: Date;
}

function workerFromRow(r: WorkerRow): WorkerRecord {
  return {
    name: r.name,
    dest: r.dest,
    version: r.version,
    threads: r.threads,
    registeredAt: r.registered_at.toISOString(),
    expired: r.expired,
    draining: r.draining,
    drainStartedAt: r.drain_started_at ? r.drain_started_at.toISOString() : undefined,
    drained: r.drained,
    bootId: r.boot_id ?? undefined,
    acceptedSeq: Number(r.accepted_seq),
    lastEventAt: r.last_event_at.toISOString(),
    lastSeen: r.last_seen.toISOString(),
  };
}

function threadFromRow(r: ThreadRow): ThreadRecord {
  return {
    worker: r.worker,
    index: r.idx,
    plan: r.plan as SealingPlan,
    state: r.state,
    location: r.location ?? undefined,
    sectorId: r.sector_id ?? undefined,
    paused: r.paused,
    pausedAt: r.paused_at ? r.paused_at.toISOString() : undefined,
    pauseReason: (r.pause_reason as PauseReason | null) ?? undefined,
    lastError: r.last_error ?? undefined,
    updatedAt: r.updated_at.toISOString(),
  };
}

function aggregatesFrom(workers: readonly WorkerRow[], threads: readonly ThreadRow[]): Map<string, WorkerAggregate> {
  const out = new Map<string, WorkerAggregate>();
  for (const r of workers) out.set(r.name, { worker: workerFromRow(r), threads: new Map() });
  for (const r of threads) out.get(r.worker)?.threads.set(r.idx, threadFromRow(r));
  return out;
}

/** Every worker of the projection tables (what the registry loads at start). */
export async function loadWorkerAggregates(db: Pool | ClientBase): Promise<Map<string, WorkerAggregate>> {
  const workers = await db.query<WorkerRow>(SQL.allWorkers);
  const threads = await db.query<ThreadRow>(SQL.allThreads);
  return aggregatesFrom(workers.rows, threads.rows);
}

/**
 * Stores last-seen times of reports (heartbeats, not events) in one statement; never moves one
 * back. Returns the workers that have no row yet (the projection has not caught up with their
 * registration): store them again at the next flush.
 */
export async function flushLastSeen(db: Pool | ClientBase, seen: ReadonlyMap<string, number>): Promise<string[]> {
  if (seen.size === 0) return [];
  const names: string[] = [];
  const times: Date[] = [];
  for (const [n, ms] of seen) {
    names.push(n);
    times.push(new Date(ms));
  }
  const r = await db.query<{ name: string }>({ name: 'fv_workers_last_seen', text: SQL.flushLastSeen, values: [names, times] });
  if (r.rows.length === names.length) return [];
  const stored = new Set(r.rows.map((x) => x.name));
  return names.filter((n) => !stored.has(n));
}

/** Which (worker, thread) ran a sector, for `worker history --sector`. */
export async function workersOfSector(db: Pool | ClientBase, sectorId: string): Promise<{ worker: string; index: number }[]> {
  const r = await db.query<{ worker: string; idx: number }>('SELECT worker, idx FROM fv_proj_worker_sectors WHERE sector_id = $1 ORDER BY first_at', [sectorId]);
  return r.rows.map((x) => ({ worker: x.worker, index: x.idx }));
}

interface SectorSpan {
  sectorId: string;
  worker: string;
  index: number;
  first: string;
  last: string;
}

const iso = (s: string | undefined): string | null => s ?? null;
const WORKER_TYPES = new Set<string>(WORKER_EVENT_TYPES);

export interface WorkerProjectionOptions {
  /**
   * Workers kept folded between batches (least recently used dropped beyond). A rebuild wants them
   * all (default: no limit); the live registry, which holds every worker in memory already, keeps
   * a few hundred so the projection does not double its memory.
   */
  cacheWorkers?: number;
}

export class WorkerRegistryProjection implements Projection {
  readonly name = WORKER_PROJECTION_NAME;
  // Every type, filtered here: a type filter in readAll's SQL makes Postgres pick a scan-and-sort
  // plan on a freshly written log (3x slower rebuilds); worker events are most of a fleet's log.
  readonly handles: readonly string[] = ALL_EVENT_TYPES;
  /** name -> folded worker, or null when known to be absent from the tables; Map order = recency. */
  private readonly cache = new Map<string, WorkerAggregate | null>();
  private lastApplied: string | undefined;
  private readonly cacheWorkers: number;
  /** Since reset() nothing but this instance wrote the tables: a worker not cached has no rows. */
  private tablesEmpty = false;

  constructor(opts: WorkerProjectionOptions = {}) {
    this.cacheWorkers = opts.cacheWorkers ?? Number.POSITIVE_INFINITY;
  }

  async applyBatch(batch: readonly RecordedEvent[], tx: ProjectionTx): Promise<void> {
    if (batch.length === 0) return;
    // A batch that does not follow the last one (a retry after a rollback, a reset, another
    // runner): what the cache holds may not be in the tables.
    if (this.lastApplied === undefined || compareCheckpoints(batch[0]!.checkpoint, this.lastApplied) <= 0) {
      this.cache.clear();
      this.tablesEmpty = false;
    }
    this.lastApplied = undefined;
    const events = batch.filter((e) => WORKER_TYPES.has(e.type));
    if (events.length === 0) {
      this.lastApplied = batch[batch.length - 1]!.checkpoint;
      return;
    }

    const missing = new Set<string>();
    for (const e of events) {
      const n = workerOfStream(e.stream);
      const hit = this.cache.get(n);
      if (hit === undefined && !this.cache.has(n)) missing.add(n);
      else if (this.cacheWorkers !== Number.POSITIVE_INFINITY) {
        // Most recently used last.
        this.cache.delete(n);
        this.cache.set(n, hit ?? null);
      }
    }
    if (missing.size > 0 && this.tablesEmpty && this.cacheWorkers === Number.POSITIVE_INFINITY) {
      // A rebuild: every worker written since the reset is in the cache, so the others have no rows.
      for (const n of missing) this.cache.set(n, null);
    } else if (missing.size > 0) {
      const names = [...missing];
      const w = await tx.query<WorkerRow>({ name: 'fv_wr_load_workers', text: SQL.loadWorkers, values: [names] });
      const t = await tx.query<ThreadRow>({ name: 'fv_wr_load_threads', text: SQL.loadThreads, values: [names] });
      const loaded = aggregatesFrom(w.rows, t.rows);
      for (const n of names) this.cache.set(n, loaded.get(n) ?? null);
    }

    const dirtyWorkers = new Set<string>();
    const dirtyThreads = new Map<string, Set<number>>();
    const markThread = (worker: string, index: number) => {
      let s = dirtyThreads.get(worker);
      if (!s) dirtyThreads.set(worker, (s = new Set()));
      s.add(index);
    };
    const sectors = new Map<string, SectorSpan>();

    for (const e of events) {
      const name = workerOfStream(e.stream);
      const before = this.cache.get(name) ?? undefined;
      const beforeThreads = before && (e.type === 'WorkerRemoved' || e.type === 'WorkerUpdated') ? [...before.threads.keys()] : undefined;
      const after = evolveWorker(before, e);
      this.cache.set(name, after ?? null);
      dirtyWorkers.add(name);
      if (beforeThreads) for (const i of beforeThreads) if (!after?.threads.has(i)) markThread(name, i);
      const d = e.data as { index?: number; sectorId?: string };
      if (typeof d.index === 'number') markThread(name, d.index);
      if (e.type === 'ThreadStateChanged' && d.sectorId !== undefined && typeof d.index === 'number') {
        const key = `${d.sectorId}\u0000${name}\u0000${d.index}`;
        const span = sectors.get(key);
        if (span) span.last = e.occurredAt;
        else sectors.set(key, { sectorId: d.sectorId, worker: name, index: d.index, first: e.occurredAt, last: e.occurredAt });
      }
    }

    await this.write(tx, dirtyWorkers, dirtyThreads, sectors);
    // Evicted only after the write: this batch's workers stay until their rows are written.
    for (const n of this.cache.keys()) {
      if (this.cache.size <= this.cacheWorkers) break;
      this.cache.delete(n);
    }
    this.lastApplied = batch[batch.length - 1]!.checkpoint;
  }

  private async write(tx: ProjectionTx, dirtyWorkers: Set<string>, dirtyThreads: Map<string, Set<number>>, sectors: Map<string, SectorSpan>): Promise<void> {
    const gone: string[] = [];
    const ws: WorkerRecord[] = [];
    for (const n of dirtyWorkers) {
      const agg = this.cache.get(n);
      if (agg) ws.push(agg.worker);
      else gone.push(n);
    }
    if (gone.length > 0) await tx.query({ name: 'fv_wr_delete_workers', text: SQL.deleteWorkers, values: [gone] });
    if (ws.length > 0) {
      await tx.query({
        name: 'fv_wr_upsert_workers',
        text: SQL.upsertWorkers,
        values: [
          ws.map((w) => w.name),
          ws.map((w) => w.dest),
          ws.map((w) => w.version),
          ws.map((w) => w.threads),
          ws.map((w) => w.registeredAt),
          ws.map((w) => w.expired),
          ws.map((w) => w.draining),
          ws.map((w) => iso(w.drainStartedAt)),
          ws.map((w) => w.drained),
          ws.map((w) => w.bootId ?? null),
          ws.map((w) => w.acceptedSeq),
          ws.map((w) => w.lastEventAt),
          ws.map((w) => w.lastSeen),
        ],
      });
    }
    const up: ThreadRecord[] = [];
    const delWorker: string[] = [];
    const delIndex: number[] = [];
    for (const [n, indexes] of dirtyThreads) {
      const agg = this.cache.get(n);
      if (!agg) continue; // the whole worker was deleted above
      for (const i of indexes) {
        const t = agg.threads.get(i);
        if (t) up.push(t);
        else {
          delWorker.push(n);
          delIndex.push(i);
        }
      }
    }
    if (delWorker.length > 0) await tx.query({ name: 'fv_wr_delete_threads', text: SQL.deleteThreads, values: [delWorker, delIndex] });
    if (up.length > 0) {
      await tx.query({
        name: 'fv_wr_upsert_threads',
        text: SQL.upsertThreads,
        values: [
          up.map((t) => t.worker),
          up.map((t) => t.index),
          up.map((t) => t.plan),
          up.map((t) => t.state),
          up.map((t) => t.location ?? null),
          up.map((t) => t.sectorId ?? null),
          up.map((t) => t.paused),
          up.map((t) => iso(t.pausedAt)),
          up.map((t) => t.pauseReason ?? null),
          up.map((t) => t.lastError ?? null),
          up.map((t) => t.updatedAt),
        ],
      });
    }
    if (sectors.size > 0) {
      const s = [...sectors.values()];
      await tx.query({
        name: 'fv_wr_upsert_sectors',
        text: SQL.upsertSectors,
        values: [s.map((x) => x.sectorId), s.map((x) => x.worker), s.map((x) => x.index), s.map((x) => x.first), s.map((x) => x.last)],
      });
    }
  }

  async reset(tx: ProjectionTx): Promise<void> {
    await tx.query(SQL.reset);
    this.cache.clear();
    // Batches after the reset follow the start of the log, so the cache stays valid.
    this.lastApplied = START_CHECKPOINT;
    this.tablesEmpty = true;
  }
}
