// SQL and layout of the rollups table (fv_stats_rollups): views, resolutions, the upsert the
// projection writes, and the resolution filter queries read through. Built from one column list so
// that the statements cannot disagree.
import { LATENCY_BUCKET_COUNT } from '../domain/latency';

export const LAT_COLUMNS: readonly string[] = Array.from({ length: LATENCY_BUCKET_COUNT }, (_, i) => `l${i}`);
/** Counter columns: summed by every upsert and query. */
export const SUM_COLUMNS: readonly string[] = ['calls', 'errors', 'transport_errors', ...LAT_COLUMNS];

export const RESOLUTIONS = { minute: 60, tenMinutes: 600, hour: 3600 } as const;
/** Finest first. */
export const RESOLUTION_LIST: readonly number[] = [60, 600, 3600];

/** The views: which dimensions a row keeps (a dropped one is stored as ''). */
export const VIEWS = { full: 0, callerComponent: 1, componentMethod: 2 } as const;
export type View = (typeof VIEWS)[keyof typeof VIEWS];

const addExcluded = SUM_COLUMNS.map((c) => `${c} = t.${c} + excluded.${c}`).join(', ');

/**
 * Adds rows (parameters: view, res, bucket, caller, component, method arrays, then one bigint array
 * per SUM_COLUMNS): a key already stored gets the counts added.
 */
export const UPSERT_SQL = `INSERT INTO fv_stats_rollups AS t (view, res, bucket, caller, component, method, ${SUM_COLUMNS.join(', ')})
  SELECT * FROM unnest($1::smallint[], $2::integer[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], ${SUM_COLUMNS.map((_, i) => `$${7 + i}::bigint[]`).join(', ')})
  ON CONFLICT (view, res, bucket, caller, component, method) DO UPDATE SET ${addExcluded}`;

const cutOf = (res: number) => `coalesce((SELECT cut FROM fv_stats_cuts WHERE res = ${res}), '-infinity'::timestamptz)`;

/**
 * The SQL condition selecting, for each stretch of time, the rows of exactly one resolution: the
 * finest one from `finest` up whose rows still exist there (below its cut, each resolution falls
 * to the next coarser one). The cuts are read in the same statement, so a query sees the cuts and
 * the rows of one committed compaction, never a mix.
 */
export function resolutionFilter(finest: number): string {
  const chain = RESOLUTION_LIST.filter((r) => r >= finest);
  const parts = chain.map((r, i) => {
    const lower = i < chain.length - 1 ? ` AND bucket >= ${cutOf(r)}` : '';
    const upper = i > 0 ? ` AND bucket < ${cutOf(chain[i - 1]!)}` : '';
    return `(res = ${r}${lower}${upper})`;
  });
  return `(${parts.join(' OR ')})`;
}
