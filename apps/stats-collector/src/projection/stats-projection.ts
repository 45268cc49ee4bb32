// StatsProjection: ApiCallsRecorded events folded into per-minute rollups (caller × component ×
// method: calls, errors, latency buckets, also per caller × component and per component × method,
// and at 10-minute and hourly resolution), and CallRateAnomaly / CallRateRecovered into the
// anomalies table. Applied by ProjectionRunner, each batch in the transaction that moves its
// checkpoint, so an event is counted exactly once; a batch pushed twice is one event (its id is
// derived from source, window and part: the log drops the copy). Counts are additive, so events of
// one minute arriving in any order, late or early, give the same rows.
//
// A batch writes its rows in ONE statement: the records of all its events are summed in memory by
// view, resolution and key first (every record counts in 3 views at 3 resolutions; see the
// migration for why), so a batch of 1,000 events touches far fewer rows than 9 per record.
import type { RecordedEvent } from '@fleetvisor/contracts';
import type { ApiCallsBatch } from '@fleetvisor/contracts';
import type { Projection, ProjectionTx } from '@fleetvisor/event-store';
import { LATENCY_BUCKET_COUNT } from '../domain/latency';
import { RESOLUTION_LIST, RESOLUTIONS, SUM_COLUMNS, UPSERT_SQL, VIEWS } from './rollup-sql';

export const STATS_PROJECTION_NAME = 'stats-collector';
export const STATS_EVENT_TYPES = ['ApiCallsRecorded', 'CallRateAnomaly', 'CallRateRecovered'] as const;

/** Sums of one rollup key: calls, errors, transport errors, then the latency buckets. */
type Sums = number[];

/** The minute a window's calls are counted in: the minute of its start (a window never spans two; see intake). */
export function minuteOf(windowStart: string): number {
  const ms = Date.parse(windowStart);
  return ms - (((ms % 60_000) + 60_000) % 60_000);
}

export interface RollupRows {
  view: number[];
  res: number[];
  bucket: Date[];
  caller: string[];
  component: string[];
  method: string[];
  sums: number[][];
}

/** Keys of one record in every view: [view, caller, component, method]. */
function viewKeys(caller: string, component: string, method: string): [number, string, string, string][] {
  return [
    [VIEWS.full, caller, component, method],
    [VIEWS.callerComponent, caller, component, ''],
    [VIEWS.componentMethod, '', component, method],
  ];
}

/**
 * Sums the records of a batch of ApiCallsRecorded data by view, resolution, bucket and key: every
 * record counts once in each of the 3 views at each of the 3 resolutions.
 */
export function foldRollups(batches: readonly ApiCallsBatch[]): RollupRows {
  const byKey = new Map<string, { view: number; res: number; bucket: number; caller: string; component: string; method: string; sums: Sums }>();
  for (const b of batches) {
    const minute = minuteOf(b.windowStart);
    for (const r of b.records) {
      for (const res of RESOLUTION_LIST) {
        const bucket = minute - (minute % (res * 1000));
        for (const [view, caller, component, method] of viewKeys(r.caller, r.component, r.method)) {
          const key = `${view}\u0000${res}\u0000${bucket}\u0000${caller}\u0000${component}\u0000${method}`;
          let row = byKey.get(key);
          if (!row) {
            row = { view, res, bucket, caller, component, method, sums: new Array<number>(SUM_COLUMNS.length).fill(0) };
            byKey.set(key, row);
          }
          const s = row.sums;
          s[0]! += r.calls;
          s[1]! += r.errors;
          s[2]! += r.transportErrors ?? 0;
          if (r.latency) for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) s[3 + i]! += r.latency[i]!;
        }
      }
    }
  }
  const out: RollupRows = { view: [], res: [], bucket: [], caller: [], component: [], method: [], sums: SUM_COLUMNS.map(() => []) };
  for (const row of byKey.values()) {
    out.view.push(row.view);
    out.res.push(row.res);
    out.bucket.push(new Date(row.bucket));
    out.caller.push(row.caller);
    out.component.push(row.component);
    out.method.push(row.method);
    for (let c = 0; c < SUM_COLUMNS.length; c++) out.sums[c]!.push(row.sums[c]!);
  }
  return out;
}

export async function writeRollups(tx: ProjectionTx, rows: RollupRows): Promise<void> {
  if (rows.bucket.length === 0) return;
  await tx.query({ name: 'fv_stats_upsert', text: UPSERT_SQL, values: [rows.view, rows.res, rows.bucket, rows.caller, rows.component, rows.method, ...rows.sums] });
}

/** The full-view, per-minute rows of a fold (what each batch added, once). */
export interface MinuteRows {
  caller: string[];
  component: string[];
  method: string[];
  sums: number[][];
}

export function minuteRowsOf(rows: RollupRows): MinuteRows {
  const out: MinuteRows = { caller: [], component: [], method: [], sums: SUM_COLUMNS.map(() => []) };
  for (let i = 0; i < rows.view.length; i++) {
    if (rows.view[i] !== VIEWS.full || rows.res[i] !== RESOLUTIONS.minute) continue;
    out.caller.push(rows.caller[i]!);
    out.component.push(rows.component[i]!);
    out.method.push(rows.method[i]!);
    for (let c = 0; c < SUM_COLUMNS.length; c++) out.sums[c]!.push(rows.sums[c]![i]!);
  }
  return out;
}

const SQL = {
  anomaly: `INSERT INTO fv_stats_anomalies (event_id, caller, component, methods, direction, band, observed_per_min, outside_since, detected_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING`,
  // The open anomaly a recovery ends: the latest one of the same caller, component and methods.
  recovered: `UPDATE fv_stats_anomalies SET recovered_at = $4, recovered_per_min = $5
    WHERE event_id = (SELECT event_id FROM fv_stats_anomalies WHERE caller = $1 AND component = $2 AND methods = $3 AND recovered_at IS NULL ORDER BY detected_at DESC LIMIT 1)`,
  reset: 'TRUNCATE fv_stats_rollups, fv_stats_cuts, fv_stats_anomalies',
} as const;

export class StatsProjection implements Projection {
  readonly name = STATS_PROJECTION_NAME;
  readonly handles: readonly string[] = STATS_EVENT_TYPES;
  /** Calls counted by this instance (for the collector's /metrics and stats). */
  counted = 0;
  /** Told of each batch's rows after they were written (the /metrics counters); not during a rebuild. */
  onApplied: ((rows: MinuteRows) => void) | undefined;

  async applyBatch(events: readonly RecordedEvent[], tx: ProjectionTx): Promise<void> {
    // No wait for the WAL flush at commit: a crash can only lose whole batches together with their
    // checkpoint (same transaction), and those are replayed from the log.
    await tx.query("SELECT set_config('synchronous_commit', 'off', true)");
    const batches: ApiCallsBatch[] = [];
    for (const e of events) {
      if (e.type === 'ApiCallsRecorded') batches.push(e.data as ApiCallsBatch);
    }
    const rows = foldRollups(batches);
    await writeRollups(tx, rows);
    const minutes = minuteRowsOf(rows);
    for (const n of minutes.sums[0]!) this.counted += n;
    this.onApplied?.(minutes);
    // Anomalies are rare: one statement each, in log order (a recovery closes the anomaly before it).
    for (const e of events) {
      if (e.type === 'CallRateAnomaly') {
        const d = e.data as { caller: string; component: string; methods: string; direction: string; band: unknown; observedPerMin: number; outsideSince: string };
        await tx.query(SQL.anomaly, [e.id, d.caller, d.component, d.methods, d.direction, JSON.stringify(d.band), d.observedPerMin, d.outsideSince, e.occurredAt]);
      } else if (e.type === 'CallRateRecovered') {
        const d = e.data as { caller: string; component: string; methods: string; observedPerMin: number };
        await tx.query(SQL.recovered, [d.caller, d.component, d.methods, e.occurredAt, d.observedPerMin]);
      }
    }
  }

  async reset(tx: ProjectionTx): Promise<void> {
    await tx.query(SQL.reset);
  }
}
