// What must hold after every fault the suite injects, as functions over the cluster's own
// Postgres and JetStream (they take a pool and an admin NATS connection, nothing of the suite):
//   - every event in the log is on the bus exactly once, and in order per stream;
//   - every projection (the registry's, the stats-collector's) equals a rebuild from the log (up to the same checkpoint);
//   - the API calls made through a metering proxy are in the log, none lost (beyond what a killed
//     meter may lose by design) and none counted twice;
//   - every durable consumer has seen every event;
//   - no command (or event that triggers work) was executed twice;
//   - no supervised service stopped except for an upgrade (its pid is unchanged otherwise).
import { AckPolicy, DeliverPolicy, type NatsConnection } from 'nats';
import { Pool, type PoolClient } from 'pg';
import { PostgresEventStore, rebuildProjection, type Projection } from '@fleetvisor/event-store/core';
import { readStatsCollectorSettings } from '../../apps/stats-collector/src/config';
import { compactRollups } from '../../apps/stats-collector/src/projection/compaction';
import { StatsProjection } from '../../apps/stats-collector/src/projection/stats-projection';
import { WorkerRegistryProjection } from '../../apps/worker-registry/src/projection/worker-projection';

export const EVENT_STREAM = 'FLEET_EVENTS';

export interface BusCheck {
  /** Events in the log. */
  logEvents: number;
  /** Messages on the bus. */
  busMessages: number;
  /** Log events not on the bus. */
  lost: number;
  /** Log events on the bus more than once (extra copies counted). */
  doubled: number;
  /** Bus messages that are no event of the log. */
  foreign: number;
  /** Events of a stream that came on the bus after a later version of the same stream. */
  outOfOrder: number;
  examples: string[];
}

interface LogRow {
  event_id: string;
  stream_id: string;
  stream_version: string;
}

/** Every message of the event stream, oldest first: its Nats-Msg-Id and the stream/version headers. */
export async function readBus(nc: NatsConnection, stream = EVENT_STREAM): Promise<{ id: string; stream: string; version: number; seq: number }[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const last = info.state.last_seq;
  const out: { id: string; stream: string; version: number; seq: number }[] = [];
  if (info.state.messages === 0) return out;
  // An ephemeral pull consumer of our own, from the first message, with no acks to keep.
  const name = `check_${process.pid}_${Date.now()}`;
  await jsm.consumers.add(stream, { name, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, inactive_threshold: 30_000_000_000 });
  try {
    const js = nc.jetstream();
    const consumer = await js.consumers.get(stream, name);
    while (out.length === 0 || out[out.length - 1]!.seq < last) {
      // Ask for no more than what remains: a fetch waits until it has max_messages or expires.
      const remaining = last - (out.at(-1)?.seq ?? info.state.first_seq - 1);
      const batch = await consumer.fetch({ max_messages: Math.max(1, Math.min(1_000, remaining)), expires: 5_000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        out.push({
          id: m.headers?.get('Nats-Msg-Id') ?? '',
          stream: m.headers?.get('Fleet-Stream') ?? '',
          version: Number(m.headers?.get('Fleet-Stream-Version') ?? '0'),
          seq: m.seq,
        });
      }
      if (got === 0) throw new Error(`the bus stopped delivering at seq ${out.at(-1)?.seq ?? 0} of ${last}`);
    }
  } finally {
    await jsm.consumers.delete(stream, name).catch(() => undefined);
  }
  return out;
}

/** Compares the log with the bus (see BusCheck). */
export async function checkLogOnBus(pool: Pool, nc: NatsConnection): Promise<BusCheck> {
  const log = (await pool.query<LogRow>('SELECT event_id, stream_id, stream_version FROM fv_events ORDER BY transaction_id, global_position')).rows;
  const bus = await readBus(nc);
  const seen = new Map<string, number>();
  for (const m of bus) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
  const inLog = new Set(log.map((r) => r.event_id));
  const examples: string[] = [];
  let lost = 0;
  let doubled = 0;
  for (const r of log) {
    const n = seen.get(r.event_id) ?? 0;
    if (n === 0) {
      lost++;
      if (examples.length < 5) examples.push(`lost ${r.stream_id}@${r.stream_version} (${r.event_id})`);
    }
    if (n > 1) {
      doubled += n - 1;
      if (examples.length < 5) examples.push(`doubled ${r.stream_id}@${r.stream_version} ×${n}`);
    }
  }
  // The bus is read after the log: what it holds beyond our read of the log is looked up again.
  const later = bus.filter((m) => !inLog.has(m.id)).map((m) => m.id);
  const found = later.length === 0 ? new Set<string>() : new Set((await pool.query<{ event_id: string }>('SELECT event_id::text FROM fv_events WHERE event_id::text = ANY($1)', [later])).rows.map((r) => r.event_id));
  const foreignIds = later.filter((id) => !found.has(id));
  const foreign = foreignIds.length;
  for (const id of foreignIds.slice(0, Math.max(0, 5 - examples.length))) examples.push(`on the bus, not in the log: ${id}`);
  // In order per stream: on the bus, each stream's versions only go up.
  const lastVersion = new Map<string, number>();
  let outOfOrder = 0;
  for (const m of bus) {
    const prev = lastVersion.get(m.stream) ?? 0;
    if (m.version <= prev) {
      outOfOrder++;
      if (examples.length < 5) examples.push(`out of order ${m.stream}: ${m.version} after ${prev}`);
    } else lastVersion.set(m.stream, m.version);
  }
  return { logEvents: log.length + found.size, busMessages: bus.length, lost, doubled, foreign, outOfOrder, examples };
}

export interface ConsumerCheck {
  name: string;
  /** Events the consumer has not been given yet. */
  pending: number;
  /** Given but not acknowledged. */
  ackPending: number;
  /** The stream sequence it has acknowledged up to. */
  ackFloor: number;
}

/** Every durable consumer of the event stream, with what it has not seen or not acknowledged. */
export async function checkDurableConsumers(nc: NatsConnection, stream = EVENT_STREAM): Promise<ConsumerCheck[]> {
  const jsm = await nc.jetstreamManager();
  const out: ConsumerCheck[] = [];
  for await (const c of jsm.consumers.list(stream)) {
    if (!c.config.durable_name) continue;
    out.push({ name: c.name, pending: c.num_pending, ackPending: c.num_ack_pending, ackFloor: c.ack_floor.stream_seq });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export interface ProjectionCheck {
  projection: string;
  /** The live projection's checkpoint the rebuild was taken up to. */
  checkpoint: string;
  /** Events the rebuild folded. */
  eventsReplayed: number;
  rows: Record<string, number>;
  /** Rows that differ (missing on one side or with other values). */
  mismatches: number;
  examples: string[];
}

interface TableSpec {
  table: string;
  /** An SQL expression naming a row uniquely. */
  key: string;
  /** Columns left out of the comparison. */
  exclude: string[];
}

/** The worker registry's tables and the columns compared; `last_seen` is the one column not folded from events (migration 1767225600010). */
const WORKER_TABLES: TableSpec[] = [
  { table: 'fv_proj_workers', key: 'name', exclude: ['last_seen'] },
  { table: 'fv_proj_threads', key: `worker || '/' || idx`, exclude: [] },
  { table: 'fv_proj_worker_sectors', key: `sector_id || '/' || worker || '/' || idx`, exclude: [] },
];

/**
 * The stats-collector's tables (apps/stats-collector/src/migrations). `fv_stats_cuts` is left out:
 * compaction derives the cuts from the clock alone (now minus the ages), so a rebuild compacted a
 * moment later may hold a later cut without any count differing; the rows the cuts delete are compared.
 */
const STATS_TABLES: TableSpec[] = [
  { table: 'fv_stats_rollups', key: `view || '/' || res || '/' || bucket::text || '/' || caller || '/' || component || '/' || method`, exclude: [] },
  { table: 'fv_stats_anomalies', key: 'event_id::text', exclude: [] },
];

async function tableRows(c: PoolClient, schema: string, t: TableSpec): Promise<Map<string, string>> {
  const rows = (await c.query<{ k: string; v: string }>(`SELECT ${t.key} AS k, (to_jsonb(x) - $1::text[])::text AS v FROM ${schema}.${t.table} x`, [t.exclude])).rows;
  return new Map(rows.map((r) => [r.k, r.v]));
}

type PgConnection = { host: string; port: number; user: string; password: string; database: string };

/**
 * A projection as the running service keeps it, against a rebuild from the log by the projection's
 * own code, up to the same checkpoint. Under load the log keeps growing, so the live tables, their
 * checkpoint and the events up to it are read in one snapshot; the events are copied into a scratch
 * schema, and the rebuild (with `search_path` = scratch first) reads them and writes its tables
 * there, then `afterRebuild` runs what the service's rebuild command runs after the replay. Nothing
 * of the live schema is written.
 */
async function checkProjectionRebuild(
  pool: Pool,
  connection: PgConnection,
  projection: Projection,
  tables: TableSpec[],
  afterRebuild?: (scratch: Pool) => Promise<void>,
): Promise<ProjectionCheck> {
  const schema = `fv_verify_${process.pid}`;
  const c = await pool.connect();
  let live: Map<string, string>[];
  let checkpoint: string;
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const cp = await c.query<{ checkpoint: string }>(`SELECT checkpoint FROM fv_checkpoints WHERE name = $1`, [`projection:${projection.name}`]);
    checkpoint = cp.rows[0]?.checkpoint ?? '0:0';
    const [tx, pos] = checkpoint.split(':');
    live = [];
    for (const t of tables) live.push(await tableRows(c, 'public', t));
    await c.query(`CREATE TABLE ${schema}.fv_events AS SELECT * FROM public.fv_events WHERE (transaction_id, global_position) <= ($1::xid8, $2::bigint)`, [tx, pos]);
    await c.query('COMMIT');
    await c.query(`ALTER TABLE ${schema}.fv_events ADD PRIMARY KEY (transaction_id, global_position)`);
    await c.query(`CREATE TABLE ${schema}.fv_checkpoints (LIKE public.fv_checkpoints INCLUDING ALL)`);
    for (const t of tables) await c.query(`CREATE TABLE ${schema}.${t.table} (LIKE public.${t.table} INCLUDING ALL)`);
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }

  const scratch = new Pool({ ...connection, max: 2, options: `-c search_path=${schema},public` });
  scratch.on('error', () => undefined);
  let replayed: number;
  try {
    replayed = (await rebuildProjection(scratch, new PostgresEventStore(scratch), projection, undefined, { batchSize: 1_000 })).processed;
    await afterRebuild?.(scratch);
  } finally {
    await scratch.end();
  }

  const result: ProjectionCheck = { projection: projection.name, checkpoint, eventsReplayed: replayed, rows: {}, mismatches: 0, examples: [] };
  const c2 = await pool.connect();
  try {
    for (const [i, t] of tables.entries()) {
      const rebuilt = await tableRows(c2, schema, t);
      const mine = live[i]!;
      result.rows[t.table] = mine.size;
      for (const k of new Set([...mine.keys(), ...rebuilt.keys()])) {
        if (mine.get(k) !== rebuilt.get(k)) {
          result.mismatches++;
          if (result.examples.length < 5) result.examples.push(`${t.table} ${k}: live ${mine.get(k) ?? '(none)'} / rebuilt ${rebuilt.get(k) ?? '(none)'}`);
        }
      }
    }
    await c2.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    c2.release();
  }
  return result;
}

/** The worker registry's projection against its rebuild (`fleetvisor events rebuild worker-registry` replays the same way). */
export function checkWorkerProjection(pool: Pool, connection: PgConnection): Promise<ProjectionCheck> {
  return checkProjectionRebuild(pool, connection, new WorkerRegistryProjection(), WORKER_TABLES);
}

/**
 * The stats-collector's rollups and anomalies against their rebuild: the replay and then the
 * compaction, as `fleetvisor stats-collector rebuild` does, with the collector's settings (the
 * suite runs it with the defaults).
 */
export function checkStatsProjection(pool: Pool, connection: PgConnection): Promise<ProjectionCheck> {
  return checkProjectionRebuild(pool, connection, new StatsProjection(), STATS_TABLES, async (scratch) => {
    await compactRollups(scratch, readStatsCollectorSettings({}));
  });
}

export interface DoubleExecutionCheck {
  /** Events caused by a command or an event (causationId) recorded more than once with the same effect. */
  doubled: number;
  examples: string[];
}

/**
 * No command, and no event that triggers work (a VersionChanged a runner upgrades on), was carried
 * out twice: the log holds no two events of one stream, one type and the same data with the same
 * causationId.
 */
export async function checkNoDoubleExecution(pool: Pool): Promise<DoubleExecutionCheck> {
  const rows = (
    await pool.query<{ stream_id: string; type: string; causation: string; n: string }>(
      `SELECT stream_id, type, metadata->>'causationId' AS causation, count(*) AS n
         FROM fv_events
        WHERE metadata->>'causationId' IS NOT NULL
        GROUP BY stream_id, type, metadata->>'causationId', data::text
       HAVING count(*) > 1`,
    )
  ).rows;
  return { doubled: rows.reduce((s, r) => s + Number(r.n) - 1, 0), examples: rows.slice(0, 5).map((r) => `${r.stream_id} ${r.type} ×${r.n} (causation ${r.causation})`) };
}

export interface SupervisionCheck {
  host: string;
  service: string;
  pidBefore: number;
  pidAfter: number;
  alive: boolean;
  /** Upgrades recorded for the service between the two readings. */
  upgrades: number;
  /** Unexpected ServiceExited, ServiceStopped, ServiceRestarted, ServiceCrashLooping recorded between the two readings. */
  stops: number;
  /** ServiceStarted recorded between the two readings (one per upgrade, none otherwise). */
  starts: number;
  ok: boolean;
}

/** The supervised service kept running (same pid) unless an upgrade restarted it, and nothing else stopped it. */
export async function checkSupervised(
  pool: Pool,
  s: { host: string; service: string; pidBefore: number; pidAfter: number; fromPosition: number },
): Promise<SupervisionCheck> {
  const stream = `service-${s.host}/${s.service}`;
  const rows = (
    await pool.query<{ type: string; expected: string | null; adopted: string | null }>(
      `SELECT type, data->>'expected' AS expected, data->>'adopted' AS adopted FROM fv_events WHERE stream_id = $1 AND global_position > $2`,
      [stream, s.fromPosition],
    )
  ).rows;
  const upgrades = rows.filter((r) => r.type === 'ServiceUpgraded').length;
  // An upgrade stops the old process on purpose (ServiceExited with expected: true); anything else counts.
  const stops = rows.filter((r) => (r.type === 'ServiceExited' && r.expected !== 'true') || ['ServiceStopped', 'ServiceRestarted', 'ServiceCrashLooping'].includes(r.type)).length;
  // A start without an upgrade means the service was replaced (a runner that stops what it finds);
  // a restarted runner adopting the process its previous life started (ADR 0007) records a
  // ServiceStarted with adopted: true for the same process, which is no start.
  const starts = rows.filter((r) => r.type === 'ServiceStarted' && r.adopted !== 'true').length;
  let alive = false;
  try {
    process.kill(s.pidAfter, 0);
    alive = true;
  } catch {
    alive = false;
  }
  const ok = alive && stops === 0 && starts === upgrades && (s.pidAfter === s.pidBefore || upgrades > 0);
  return { ...s, alive, upgrades, stops, starts, ok };
}

export interface LivenessCheck {
  /** Host and worker streams whose Expired/Returned events do not alternate (a transition recorded twice). */
  doubled: number;
  /** Expired/Returned pairs recorded in all (how often something went silent and came back). */
  transitions: number;
  examples: string[];
}

/**
 * Liveness is a two-state machine per host and per worker: after HostExpired only HostReturned may
 * follow, after HostReturned only HostExpired (likewise WorkerExpired / WorkerReturned). Two of the
 * same in a row is one transition recorded twice.
 */
export async function checkLivenessTransitions(pool: Pool): Promise<LivenessCheck> {
  const rows = (
    await pool.query<{ stream_id: string; type: string; stream_version: string }>(
      `SELECT stream_id, type, stream_version FROM fv_events
        WHERE type IN ('HostExpired', 'HostReturned', 'WorkerExpired', 'WorkerReturned')
        ORDER BY stream_id, stream_version`,
    )
  ).rows;
  const last = new Map<string, string>();
  const out: LivenessCheck = { doubled: 0, transitions: 0, examples: [] };
  for (const r of rows) {
    const kind = r.type.endsWith('Expired') ? 'expired' : 'returned';
    const prev = last.get(r.stream_id) ?? 'returned'; // a stream starts alive
    if (prev === kind) {
      out.doubled++;
      if (out.examples.length < 5) out.examples.push(`${r.stream_id}@${r.stream_version}: ${r.type} twice in a row`);
    } else if (kind === 'returned') out.transitions++;
    last.set(r.stream_id, kind);
  }
  return out;
}

/** The log's highest global position (to read "what happened since"). */
export async function logHead(pool: Pool): Promise<number> {
  return Number((await pool.query<{ p: string | null }>('SELECT max(global_position) AS p FROM fv_events')).rows[0]!.p ?? 0);
}

/** A tick of the call load (call-load.ts): when it ran and how many of its calls were answered or failed. */
export interface CallTickRecord {
  t0: number;
  t1: number;
  answered: number;
  failed: number;
}

export interface CallStatsCheck {
  /** Flush windows compared (each `windowMs` long, all ended before the check). */
  windows: number;
  /** Calls the callers had answered in those windows (for certain, plus those of ticks spanning two windows). */
  callsMade: number;
  /** Calls the log's ApiCallsRecorded events of the meter's source hold for those windows. */
  callsInLog: number;
  /** Calls missing from the log, outside the windows a killed meter may lose by design. */
  lost: number;
  /** Calls missing from the log in the windows a killed meter may lose by design. */
  lostByDesign: number;
  /** Calls in the log beyond what the callers made (at most). */
  doubled: number;
  /** Windows the log holds more than one batch of, for one part (a batch stored twice under two ids). */
  doubledBatches: number;
  examples: string[];
}

/**
 * The calls the load made through the metering proxy against what reached the log, window by
 * window. A tick's calls were counted by the meter between the tick's start and end: in that window
 * for certain when both fall in one, else in one of the windows it spans. Per window, the log must
 * hold at least the calls certain to be in it (else lost) and at most those that may be (answered
 * or failed, of every tick touching it; else doubled). `byDesign` are windows a SIGKILLed meter may
 * lose (what it had not sent yet); calls missing there are counted apart.
 */
export async function checkCallStats(
  pool: Pool,
  s: { source: string; windowMs: number; ticks: readonly CallTickRecord[]; until: number; byDesign: readonly number[] },
): Promise<CallStatsCheck> {
  const w = (ms: number) => ms - (ms % s.windowMs);
  const first = s.ticks.length > 0 ? w(s.ticks[0]!.t0) : 0;
  const last = w(s.until) - s.windowMs; // the last window that ended by `until`
  const low = new Map<number, number>();
  const high = new Map<number, number>();
  let madeSure = 0;
  for (const t of s.ticks) {
    const a = w(t.t0);
    const b = w(t.t1);
    if (a > last) continue;
    if (a === b) low.set(a, (low.get(a) ?? 0) + t.answered);
    if (b <= last) madeSure += t.answered;
    for (let x = a; x <= b; x += s.windowMs) high.set(x, (high.get(x) ?? 0) + t.answered + t.failed);
  }
  const rows = (
    await pool.query<{ ws: string; part: number; n: string; calls: string }>(
      `SELECT data->>'windowStart' AS ws, (data->>'part')::int AS part, count(*) AS n,
              sum((SELECT coalesce(sum((r->>'calls')::bigint), 0) FROM json_array_elements((data->'records')::json) r)) AS calls
         FROM fv_events WHERE type = 'ApiCallsRecorded' AND data->>'source' = $1
        GROUP BY 1, 2`,
      [s.source],
    )
  ).rows;
  const inLog = new Map<number, number>();
  const out: CallStatsCheck = { windows: 0, callsMade: 0, callsInLog: 0, lost: 0, lostByDesign: 0, doubled: 0, doubledBatches: 0, examples: [] };
  for (const r of rows) {
    const ws = Date.parse(r.ws);
    if (ws < first || ws > last) continue;
    inLog.set(ws, (inLog.get(ws) ?? 0) + Number(r.calls));
    if (Number(r.n) > 1) {
      out.doubledBatches += Number(r.n) - 1;
      if (out.examples.length < 5) out.examples.push(`window ${r.ws} part ${r.part}: ${r.n} batches`);
    }
  }
  const byDesign = new Set(s.byDesign);
  for (let x = first; x <= last; x += s.windowMs) {
    out.windows++;
    const got = inLog.get(x) ?? 0;
    out.callsInLog += got;
    const missing = Math.max(0, (low.get(x) ?? 0) - got);
    const extra = Math.max(0, got - (high.get(x) ?? 0));
    if (missing > 0) {
      if (byDesign.has(x)) out.lostByDesign += missing;
      else {
        out.lost += missing;
        if (out.examples.length < 5) out.examples.push(`window ${new Date(x).toISOString()}: ${got} calls in the log, at least ${low.get(x)} made`);
      }
    }
    if (extra > 0) {
      out.doubled += extra;
      if (out.examples.length < 5) out.examples.push(`window ${new Date(x).toISOString()}: ${got} calls in the log, at most ${high.get(x) ?? 0} made`);
    }
  }
  out.callsMade = madeSure;
  return out;
}
