// WorkerRegistryProjection: the workers and threads of the log, folded with evolveWorker (the
// same fold the live registry uses) into fv_proj_workers / fv_proj_threads, plus the sector ->
// worker thread index of fv_proj_worker_sectors. Applied by ProjectionRunner, each batch in the
// transaction that moves its checkpoint.
//
// Speed: a batch reads no prior rows. Between batches the projection keeps only a compact index of
// what the tables hold (per worker: its agent boot id and accepted seq, which threads have a row;
// a few dozen bytes each). A worker a batch touches is folded from a stand-in built from that
// index, every other field marked KEEP ("as stored"): evolveWorker reads only the boot id, the
// accepted seq and which threads exist, and writes the rest. Then only the rows an event touched
// are written, in one statement per batch: rows the index says are new are inserted whole, the
// others updated column by column (KEEP columns as stored), sector spans upserted. The index is
// dropped whenever a batch does not start where the last one ended (a rolled-back batch retried, a
// rebuild, another runner), so it never holds what the tables do not; a worker missing from it is
// read from the tables (one row per worker), except after a reset (the tables were empty).
import type { ClientBase, Pool } from 'pg';
import type { RecordedEvent, PauseReason } from '@fleetvisor/contracts';
import { ALL_EVENT_TYPES, compareCheckpoints, projectionCheckpointName, START_CHECKPOINT, type Projection, type ProjectionTx } from '@fleetvisor/event-store';
import { evolveWorker, workerOfStream, WORKER_EVENT_TYPES, type ThreadRecord, type WorkerAggregate, type WorkerRecord } from '../domain/worker-state';
import { IndexSet } from './index-set';

export const WORKER_PROJECTION_NAME = 'worker-registry';
const CHECKPOINT_NAME = projectionCheckpointName(WORKER_PROJECTION_NAME);

const SQL = {
  /** The index entries of some workers: one row each, its threads with a row as a bit mask (0..30) and the rest. */
  loadIndex: `SELECT w.name, w.boot_id, w.accepted_seq::text AS accepted_seq,
      coalesce(bit_or(1 << t.idx) FILTER (WHERE t.idx BETWEEN 0 AND 30), 0) AS bits,
      array_agg(t.idx) FILTER (WHERE t.idx NOT BETWEEN 0 AND 30) AS others
    FROM fv_proj_workers w LEFT JOIN fv_proj_threads t ON t.worker = w.name
    WHERE w.name = ANY($1::text[]) GROUP BY w.name`,
  allWorkers: `SELECT name, dest, version, threads, registered_at, expired, draining, drain_started_at, drained, boot_id, accepted_seq, last_event_at, last_seen,
      unreachable, unreachable_since
    FROM fv_proj_workers`,
  allThreads: `SELECT worker, idx, plan, state, location, sector_id, paused, paused_at, pause_reason, last_error, updated_at FROM fv_proj_threads`,
  flushLastSeen: `UPDATE fv_proj_workers w SET last_seen = greatest(w.last_seen, v.seen)
    FROM unnest($1::text[], $2::timestamptz[]) AS v(name, seen) WHERE w.name = v.name RETURNING w.name`,
  /**
   * Where the runner's batch starts (it has locked the row), and no wait for the WAL flush at
   * commit: a crash can only lose whole batches together with their checkpoint (same transaction),
   * and those are replayed from the log; the batch does not wait for a disk flush.
   */
  batchStart: `SELECT set_config('synchronous_commit', 'off', true), (SELECT checkpoint FROM fv_checkpoints WHERE name = $1) AS checkpoint`,
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
  unreachable: string | null;
  unreachable_since: Date | null;
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
    unreachable: r.unreachable ?? undefined,
    unreachableSince: r.unreachable_since ? r.unreachable_since.toISOString() : undefined,
  };
}

function threadFromRow(r: ThreadRow): ThreadRecord {
  return {
    worker: r.worker,
    index: r.idx,
    plan: r.plan,
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

// ---- the projection ----

/**
 * A field of a stand-in record the batch did not load: the column keeps what is stored. A symbol:
 * no event value can equal it, and a fold that read it as a value would fail loudly.
 */
const KEEP: unique symbol = Symbol('stored');
const isKept = (v: unknown): boolean => v === KEEP;
const stored = KEEP as never;

/** What the projection keeps of a worker's rows between batches. */
interface IndexEntry {
  /** The fold reads these two (a transition's seq counts within its agent boot). */
  bootId: string | undefined;
  acceptedSeq: number;
  /** Threads with a row. */
  threads: IndexSet;
}

interface IndexRow {
  name: string;
  boot_id: string | null;
  accepted_seq: string;
  bits: number;
  others: number[] | null;
}

interface SectorSpan {
  sectorId: string;
  index: number;
  first: string;
  last: string;
}

/** One worker a batch has events for. */
interface Touched {
  name: string;
  /** The index entry before the batch (null: no rows). */
  known: IndexEntry | null;
  agg: WorkerAggregate | undefined;
  /** `agg` still stands for the stored rows: threads of `known` not loaded into it yet still exist. */
  partial: boolean;
  /** Threads of `known` put into `agg` (all of them once `allLoaded`). */
  loaded: IndexSet;
  allLoaded: boolean;
  /** Threads whose row the batch may have changed, created or deleted. */
  touched: IndexSet;
  /** Per thread, the sector spans of this batch's transitions, in order. */
  spans: Map<number, SectorSpan[]> | undefined;
}

function storedWorker(name: string, k: IndexEntry): WorkerAggregate {
  return {
    worker: {
      name,
      dest: stored,
      version: stored,
      threads: stored,
      registeredAt: stored,
      expired: stored,
      draining: stored,
      drainStartedAt: stored,
      drained: stored,
      bootId: k.bootId,
      acceptedSeq: k.acceptedSeq,
      lastEventAt: stored,
      lastSeen: stored,
      unreachable: stored,
      unreachableSince: stored,
    },
    threads: new Map(),
  };
}

function storedThread(worker: string, index: number): ThreadRecord {
  return {
    worker,
    index,
    plan: stored,
    state: stored,
    location: stored,
    sectorId: stored,
    paused: stored,
    pausedAt: stored,
    pauseReason: stored,
    lastError: stored,
    updatedAt: stored,
  };
}

const WORKER_TYPES = new Set<string>(WORKER_EVENT_TYPES);

// A column of a partial row: set from the record unless KEEP. Statements are built from these lists
// so that the values, the mask bits and the SQL cannot disagree.
interface PatchColumn<R> {
  column: string;
  type: string;
  get: (r: R) => unknown;
  /** SQL of the new value (`v.<column>` unless given), `t` being the stored row. */
  set?: string;
}

const WORKER_PATCH: readonly PatchColumn<WorkerRecord>[] = [
  { column: 'dest', type: 'text', get: (w) => w.dest },
  { column: 'version', type: 'text', get: (w) => w.version },
  { column: 'threads', type: 'int', get: (w) => w.threads },
  { column: 'registered_at', type: 'timestamptz', get: (w) => w.registeredAt },
  { column: 'expired', type: 'bool', get: (w) => w.expired },
  { column: 'draining', type: 'bool', get: (w) => w.draining },
  { column: 'drain_started_at', type: 'timestamptz', get: (w) => w.drainStartedAt },
  { column: 'drained', type: 'bool', get: (w) => w.drained },
  { column: 'last_event_at', type: 'timestamptz', get: (w) => w.lastEventAt },
  // Heartbeats move last_seen too (flushLastSeen): never back.
  { column: 'last_seen', type: 'timestamptz', get: (w) => w.lastSeen, set: 'greatest(t.last_seen, v.last_seen)' },
  { column: 'unreachable', type: 'text', get: (w) => w.unreachable },
  { column: 'unreachable_since', type: 'timestamptz', get: (w) => w.unreachableSince },
  // Always known: the stand-in carries them from the index.
  { column: 'boot_id', type: 'text', get: (w) => w.bootId },
  { column: 'accepted_seq', type: 'bigint', get: (w) => w.acceptedSeq },
];

const THREAD_PATCH: readonly PatchColumn<ThreadRecord>[] = [
  { column: 'plan', type: 'text', get: (t) => t.plan },
  { column: 'state', type: 'text', get: (t) => t.state },
  { column: 'location', type: 'text', get: (t) => t.location },
  { column: 'sector_id', type: 'text', get: (t) => t.sectorId },
  { column: 'paused', type: 'bool', get: (t) => t.paused },
  { column: 'paused_at', type: 'timestamptz', get: (t) => t.pausedAt },
  { column: 'pause_reason', type: 'text', get: (t) => t.pauseReason },
  { column: 'last_error', type: 'text', get: (t) => t.lastError },
  { column: 'updated_at', type: 'timestamptz', get: (t) => t.updatedAt },
];

interface KeyColumn<R> {
  column: string;
  type: string;
  get: (r: R) => unknown;
}

const WORKER_KEYS: readonly KeyColumn<WorkerRecord>[] = [{ column: 'name', type: 'text', get: (w) => w.name }];
const THREAD_KEYS: readonly KeyColumn<ThreadRecord>[] = [
  { column: 'worker', type: 'text', get: (t) => t.worker },
  { column: 'idx', type: 'int', get: (t) => t.index },
];

/** Numbers the parameters of a statement in the order their values are passed. */
type Param = (type: string) => string;

/** UPDATE <table> t SET each column to the new value where its mask bit is set, else as stored. */
function patchSql<R>(table: string, keys: readonly KeyColumn<R>[], columns: readonly PatchColumn<R>[], param: Param): string {
  const sets = columns.map((c, i) => `${c.column} = CASE WHEN v.m & ${1 << i} <> 0 THEN ${c.set ?? `v.${c.column}`} ELSE t.${c.column} END`);
  const all = [...keys, { column: 'm', type: 'int' }, ...columns];
  const where = keys.map((k) => `t.${k.column} = v.${k.column}`).join(' AND ');
  return `UPDATE ${table} AS t SET ${sets.join(', ')}
      FROM unnest(${all.map((c) => param(c.type)).join(', ')}) AS v(${all.map((c) => c.column).join(', ')}) WHERE ${where} RETURNING 1`;
}

/** INSERT INTO <table> every column of rows not stored yet. */
function insertSql<R>(table: string, keys: readonly KeyColumn<R>[], columns: readonly PatchColumn<R>[], param: Param): string {
  const all = [...keys, ...columns];
  return `INSERT INTO ${table} (${all.map((c) => c.column).join(', ')}) SELECT * FROM unnest(${all.map((c) => param(c.type)).join(', ')})`;
}

/**
 * Every write of a batch in ONE statement (one round trip instead of up to seven, each of which
 * waits behind the read-ahead query on a busy server): data-modifying CTEs on disjoint rows (a
 * worker is gone, inserted or updated; a thread dropped, inserted or updated), so none needs to see
 * another's effect. Parts with no rows get empty arrays. Returns how many rows the UPDATEs found.
 */
function writeSql(): string {
  let n = 0;
  const param: Param = (type) => `$${++n}::${type}[]`;
  const gone = param('text');
  return `WITH gone_workers AS (DELETE FROM fv_proj_workers WHERE name = ANY(${gone})),
    gone_threads AS (DELETE FROM fv_proj_threads WHERE worker = ANY(${gone})),
    new_workers AS (${insertSql('fv_proj_workers', WORKER_KEYS, WORKER_PATCH, param)}),
    patched_workers AS (${patchSql('fv_proj_workers', WORKER_KEYS, WORKER_PATCH, param)}),
    dropped_threads AS (DELETE FROM fv_proj_threads t USING unnest(${param('text')}, ${param('int')}) AS d(worker, idx) WHERE t.worker = d.worker AND t.idx = d.idx),
    new_threads AS (${insertSql('fv_proj_threads', THREAD_KEYS, THREAD_PATCH, param)}),
    patched_threads AS (${patchSql('fv_proj_threads', THREAD_KEYS, THREAD_PATCH, param)}),
    sectors AS (INSERT INTO fv_proj_worker_sectors AS s (sector_id, worker, idx, first_at, last_at)
      SELECT * FROM unnest(${param('text')}, ${param('text')}, ${param('int')}, ${param('timestamptz')}, ${param('timestamptz')})
      ON CONFLICT (sector_id, worker, idx) DO UPDATE SET first_at = least(s.first_at, excluded.first_at), last_at = greatest(s.last_at, excluded.last_at))
    SELECT (SELECT count(*) FROM patched_workers)::integer AS workers, (SELECT count(*) FROM patched_threads)::integer AS threads`;
}

const WRITE_SQL = writeSql();

/** Bit i set: column i of `columns` is known (not KEEP). */
function knownMask<R>(r: R, columns: readonly PatchColumn<R>[]): number {
  let m = 0;
  for (let i = 0; i < columns.length; i++) if (!isKept(columns[i]!.get(r))) m |= 1 << i;
  return m;
}

/** The unnest arrays of a patch statement: keys, masks, then each column (null where kept). */
function patchValues<R>(rows: readonly R[], masks: readonly number[], keys: readonly KeyColumn<R>[], columns: readonly PatchColumn<R>[]): unknown[][] {
  const out: unknown[][] = [...keys.map((k) => rows.map(k.get)), [...masks]];
  for (let c = 0; c < columns.length; c++) {
    const get = columns[c]!.get;
    const bit = 1 << c;
    out.push(rows.map((r, i) => ((masks[i]! & bit) !== 0 ? (get(r) ?? null) : null)));
  }
  return out;
}

/** The unnest arrays of an insert: every column of rows the batch knows whole (a KEEP here is a bug). */
function insertValues<R>(rows: readonly R[], keys: readonly KeyColumn<R>[], columns: readonly PatchColumn<R>[]): unknown[][] {
  return [...keys, ...columns].map((c) =>
    rows.map((r) => {
      const v = c.get(r);
      if (isKept(v)) throw new Error(`worker-registry projection: ${c.column} of a new row is not known`);
      return v ?? null;
    }),
  );
}

export class WorkerRegistryProjection implements Projection {
  readonly name = WORKER_PROJECTION_NAME;
  // Every type, filtered here: a type filter in readAll's SQL makes Postgres pick a scan-and-sort
  // plan on a freshly written log (3x slower rebuilds); worker events are most of a fleet's log.
  readonly handles: readonly string[] = ALL_EVENT_TYPES;
  /** name -> what the tables hold of the worker; null: no rows. */
  private readonly index = new Map<string, IndexEntry | null>();
  /** Every worker with rows is in `index` (after a reset: the tables were emptied by this instance). */
  private complete = false;
  private lastApplied: string | undefined;

  /** Workers in the index (for tests and stats). */
  get indexedWorkers(): number {
    return this.index.size;
  }

  async applyBatch(batch: readonly RecordedEvent[], tx: ProjectionTx): Promise<void> {
    if (batch.length === 0) return;
    // A batch that does not start where the last one ended (a retry after a rollback, a rebuild or
    // another runner moved the checkpoint): what the index holds may not be what the tables hold.
    // Outside a runner (no checkpoint row), batches are taken to follow each other in log order.
    const start = await tx.query<{ checkpoint: string | null }>({ name: 'fv_wr_batch_start', text: SQL.batchStart, values: [CHECKPOINT_NAME] });
    const from = start.rows[0]?.checkpoint ?? undefined;
    const follows = this.lastApplied !== undefined && (from !== undefined ? from === this.lastApplied : compareCheckpoints(batch[0]!.checkpoint, this.lastApplied) > 0);
    if (!follows) {
      this.index.clear();
      this.complete = false;
    }
    this.lastApplied = undefined;

    // The workers of the batch (consecutive events of one stream are the common case).
    const byName = new Map<string, Touched>();
    const owners: (Touched | undefined)[] = new Array<Touched | undefined>(batch.length);
    const missing: Touched[] = [];
    let lastStream: string | undefined;
    let last: Touched | undefined;
    for (let k = 0; k < batch.length; k++) {
      const e = batch[k]!;
      if (!WORKER_TYPES.has(e.type)) continue;
      if (e.stream !== lastStream || last === undefined) {
        lastStream = e.stream;
        const name = workerOfStream(e.stream);
        last = byName.get(name);
        if (last === undefined) {
          last = { name, known: null, agg: undefined, partial: false, loaded: new IndexSet(), allLoaded: false, touched: new IndexSet(), spans: undefined };
          byName.set(name, last);
          const entry = this.index.get(name);
          if (entry === undefined && !this.index.has(name) && !this.complete) missing.push(last);
          else last.known = entry ?? null;
        }
      }
      owners[k] = last;
    }
    if (byName.size === 0) {
      this.lastApplied = batch[batch.length - 1]!.checkpoint;
      return;
    }
    if (missing.length > 0) await this.loadIndex(tx, missing);
    for (const t of byName.values()) {
      if (t.known) {
        t.agg = storedWorker(t.name, t.known);
        t.partial = true;
      }
    }

    for (let k = 0; k < batch.length; k++) {
      const t = owners[k];
      if (t === undefined) continue;
      const e = batch[k]!;
      const d = e.data as { index?: unknown; sectorId?: unknown };
      const index = typeof d.index === 'number' ? d.index : undefined;
      const agg = t.agg;
      if (agg !== undefined) {
        if (e.type === 'WorkerUpdated' || e.type === 'WorkerRemoved') {
          // They drop threads: every thread must be in the fold to be seen dropped.
          if (t.partial && !t.allLoaded) this.loadAllThreads(t, agg);
          for (const i of agg.threads.keys()) t.touched.add(i);
        } else if (index !== undefined && t.partial && !t.allLoaded && !t.loaded.has(index) && t.known!.threads.has(index)) {
          agg.threads.set(index, storedThread(t.name, index));
          t.loaded.add(index);
        }
      }
      if (index !== undefined) t.touched.add(index);
      const after = evolveWorker(agg, e);
      // A new aggregate (registered anew): it holds everything, nothing stays as stored.
      if (after !== agg) t.partial = false;
      t.agg = after;
      if (e.type === 'ThreadStateChanged' && d.sectorId !== undefined && index !== undefined) this.spanOf(t, index, d.sectorId as string, e.occurredAt);
    }

    await this.write(tx, byName);
    this.updateIndex(byName);
    this.lastApplied = batch[batch.length - 1]!.checkpoint;
  }

  private loadAllThreads(t: Touched, agg: WorkerAggregate): void {
    t.known!.threads.forEach((i) => {
      if (!t.loaded.has(i)) agg.threads.set(i, storedThread(t.name, i));
    });
    t.allLoaded = true;
  }

  private spanOf(t: Touched, index: number, sectorId: string, at: string): void {
    const spans = (t.spans ??= new Map()).get(index);
    const open = spans === undefined ? undefined : spans[spans.length - 1];
    if (open !== undefined && open.sectorId === sectorId) {
      if (at < open.first) open.first = at;
      if (at > open.last) open.last = at;
      return;
    }
    const span: SectorSpan = { sectorId, index, first: at, last: at };
    if (spans) spans.push(span);
    else t.spans!.set(index, [span]);
  }

  private async loadIndex(tx: ProjectionTx, missing: readonly Touched[]): Promise<void> {
    const r = await tx.query<IndexRow>({ name: 'fv_wr_load_index', text: SQL.loadIndex, values: [missing.map((t) => t.name)] });
    const found = new Map<string, IndexEntry>();
    for (const row of r.rows) {
      found.set(row.name, { bootId: row.boot_id ?? undefined, acceptedSeq: Number(row.accepted_seq), threads: IndexSet.fromMask(row.bits, row.others) });
    }
    for (const t of missing) {
      t.known = found.get(t.name) ?? null;
      this.index.set(t.name, t.known);
    }
  }

  private async write(tx: ProjectionTx, touched: ReadonlyMap<string, Touched>): Promise<void> {
    const gone: string[] = [];
    const newWorkers: WorkerRecord[] = [];
    const patchWorkers: WorkerRecord[] = [];
    const workerMasks: number[] = [];
    const newThreads: ThreadRecord[] = [];
    const patchThreads: ThreadRecord[] = [];
    const threadMasks: number[] = [];
    const delWorker: string[] = [];
    const delIndex: number[] = [];
    const sectors = new Map<string, { sectorId: string; worker: string; index: number; first: string; last: string }>();

    for (const t of touched.values()) {
      if (t.spans) {
        for (const spans of t.spans.values()) {
          for (const s of spans) {
            const key = `${s.sectorId}\u0000${t.name}\u0000${s.index}`;
            const had = sectors.get(key);
            if (had === undefined) sectors.set(key, { sectorId: s.sectorId, worker: t.name, index: s.index, first: s.first, last: s.last });
            else {
              if (s.first < had.first) had.first = s.first;
              if (s.last > had.last) had.last = s.last;
            }
          }
        }
      }
      const agg = t.agg;
      const known = t.known;
      if (agg === undefined) {
        if (known !== null) gone.push(t.name);
        continue;
      }
      // The index says which rows exist: new ones are inserted (every column known), the others
      // updated, kept columns as stored. No INSERT .. ON CONFLICT (its speculative insertion is
      // 3x the cost of a plain insert).
      const wm = knownMask(agg.worker, WORKER_PATCH);
      if (known !== null) {
        patchWorkers.push(agg.worker);
        workerMasks.push(wm);
      } else newWorkers.push(agg.worker);
      t.touched.forEach((i) => {
        const th = agg.threads.get(i);
        const existed = known !== null && known.threads.has(i);
        if (th === undefined) {
          if (existed) {
            delWorker.push(t.name);
            delIndex.push(i);
          }
        } else if (existed) {
          patchThreads.push(th);
          threadMasks.push(knownMask(th, THREAD_PATCH));
        } else newThreads.push(th);
      });
    }

    const rows = gone.length + newWorkers.length + patchWorkers.length + delWorker.length + newThreads.length + patchThreads.length + sectors.size;
    if (rows === 0) return;
    const s = [...sectors.values()];
    const r = await tx.query<{ workers: number; threads: number }>({
      name: 'fv_wr_write',
      text: WRITE_SQL,
      values: [
        gone,
        ...insertValues(newWorkers, WORKER_KEYS, WORKER_PATCH),
        ...patchValues(patchWorkers, workerMasks, WORKER_KEYS, WORKER_PATCH),
        delWorker,
        delIndex,
        ...insertValues(newThreads, THREAD_KEYS, THREAD_PATCH),
        ...patchValues(patchThreads, threadMasks, THREAD_KEYS, THREAD_PATCH),
        s.map((x) => x.sectorId),
        s.map((x) => x.worker),
        s.map((x) => x.index),
        s.map((x) => x.first),
        s.map((x) => x.last),
      ],
    });
    this.expectRows('fv_proj_workers', r.rows[0]!.workers, patchWorkers.length);
    this.expectRows('fv_proj_threads', r.rows[0]!.threads, patchThreads.length);
  }

  /** A row the index says exists is gone: someone else wrote the tables. The batch rolls back and is retried with the index read anew. */
  private expectRows(table: string, updated: number, expected: number): void {
    if (updated !== expected) {
      throw new Error(`worker-registry projection: ${expected - updated} of ${expected} rows of ${table} it had written are gone (the tables were changed by someone else); retrying from the tables`);
    }
  }

  private updateIndex(touched: ReadonlyMap<string, Touched>): void {
    for (const t of touched.values()) {
      const agg = t.agg;
      if (agg === undefined) {
        if (this.complete) this.index.delete(t.name);
        else this.index.set(t.name, null);
        continue;
      }
      let threads: IndexSet;
      if (t.partial) {
        threads = t.known!.threads;
        t.touched.forEach((i) => (agg.threads.has(i) ? threads.add(i) : threads.delete(i)));
      } else threads = IndexSet.of(agg.threads.keys());
      this.index.set(t.name, { bootId: agg.worker.bootId, acceptedSeq: agg.worker.acceptedSeq, threads });
    }
  }

  async reset(tx: ProjectionTx): Promise<void> {
    await tx.query(SQL.reset);
    this.index.clear();
    // Batches after the reset follow the start of the log, so the index stays valid.
    this.lastApplied = START_CHECKPOINT;
    this.complete = true;
  }
}
