// Per-minute counts of the watched calls per caller × component, read from the rollups: what the
// steady band is learned from and judged on, for the band watcher (kept up to date in memory) and
// for the bands query (read afresh). A coarser rollup (older history) is spread evenly over its minutes.
import type { Pool } from 'pg';
import { RESOLUTIONS, resolutionFilter, VIEWS } from '../projection/rollup-sql';
import type { MinuteSeries, OpenAnomaly } from './steady-band';

const MINUTE = 60_000;

/** caller \0 component -> minute (ms) -> calls */
export type MinuteCounts = Map<string, Map<number, number>>;

export function bandKey(caller: string, component: string): string {
  return `${caller}\u0000${component}`;
}

export interface MinuteQuery {
  /** First minute read (ms, a whole minute). */
  fromMinute: number;
  /** Watched methods: a regular expression, evaluated by Postgres (`method ~ $2`). */
  methods: string;
  caller?: string;
  component?: string;
}

/** Reads the counts from `fromMinute` on and adds them to `into` (a coarser row's minutes before `fromMinute` too when `all`). */
export async function readMinuteCounts(pool: Pool, q: MinuteQuery, into: MinuteCounts = new Map(), all = true): Promise<MinuteCounts> {
  const values: unknown[] = [new Date(q.fromMinute), q.methods];
  const filters: string[] = [];
  for (const col of ['caller', 'component'] as const) {
    const v = q[col];
    if (v === undefined) continue;
    values.push(v);
    filters.push(`${col} = $${values.length}::text`);
  }
  const r = await pool.query<{ caller: string; component: string; bucket: Date; res: number; calls: number }>(
    `SELECT caller, component, bucket, res, sum(calls)::float8 AS calls FROM fv_stats_rollups
      WHERE view = ${VIEWS.full} AND bucket >= $1 AND method ~ $2 AND ${resolutionFilter(RESOLUTIONS.minute)}${filters.map((f) => ` AND ${f}`).join('')}
      GROUP BY caller, component, bucket, res`,
    values,
  );
  for (const row of r.rows) {
    const key = bandKey(row.caller, row.component);
    let m = into.get(key);
    if (!m) {
      m = new Map();
      into.set(key, m);
    }
    const n = Math.max(1, row.res / 60);
    const start = row.bucket.getTime();
    for (let i = 0; i < n; i++) {
      const t = start + i * MINUTE;
      if (t >= q.fromMinute || all) m.set(t, (m.get(t) ?? 0) + row.calls / n);
    }
  }
  return into;
}

/** One key's counts as a dense series of `length` minutes from `startMs`. */
export function denseSeries(m: ReadonlyMap<number, number>, startMs: number, length: number): MinuteSeries {
  const counts = new Array<number>(length).fill(0);
  for (const [t, c] of m) {
    const i = (t - startMs) / MINUTE;
    if (i >= 0 && i < length) counts[i] = c;
  }
  return { startMs, counts };
}

/** The anomalies not recovered yet, by caller × component (the newest of each), for the watched methods named `methodsName`. */
export async function readOpenAnomalies(pool: Pool, methodsName: string): Promise<Map<string, OpenAnomaly>> {
  const r = await pool.query<{ caller: string; component: string; band: OpenAnomaly['band']; outside_since: Date; direction: 'above' | 'below' }>(
    `SELECT DISTINCT ON (caller, component) caller, component, band, outside_since, direction FROM fv_stats_anomalies
      WHERE recovered_at IS NULL AND methods = $1 ORDER BY caller, component, detected_at DESC`,
    [methodsName],
  );
  return new Map(r.rows.map((a) => [bandKey(a.caller, a.component), { band: a.band, outsideSince: a.outside_since.getTime(), direction: a.direction }]));
}
