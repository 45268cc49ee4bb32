// SQL of the rollups table (fv_stats_rollups): the per-minute upsert the projection writes, and
// compaction (downsampling and retention). Built from one column list so the two cannot disagree.
import { LATENCY_BUCKET_COUNT } from '../domain/latency';

export const LAT_COLUMNS: readonly string[] = Array.from({ length: LATENCY_BUCKET_COUNT }, (_, i) => `l${i}`);
/** Counter columns: summed by every upsert and merge. */
export const SUM_COLUMNS: readonly string[] = ['calls', 'errors', 'transport_errors', ...LAT_COLUMNS];

export const RESOLUTIONS = { minute: 60, tenMinutes: 600, hour: 3600 } as const;

const addExcluded = SUM_COLUMNS.map((c) => `${c} = t.${c} + excluded.${c}`).join(', ');

/**
 * Adds rows of one resolution (parameters: bucket, caller, component, method arrays, then one
 * bigint array per SUM_COLUMNS; $n is the resolution): a key already stored gets the counts added.
 */
export const UPSERT_SQL = `INSERT INTO fv_stats_rollups AS t (bucket, caller, component, method, res, ${SUM_COLUMNS.join(', ')})
  SELECT v.bucket, v.caller, v.component, v.method, $${5 + SUM_COLUMNS.length}::integer, ${SUM_COLUMNS.map((c) => `v.${c}`).join(', ')}
  FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], ${SUM_COLUMNS.map((_, i) => `$${5 + i}::bigint[]`).join(', ')})
    AS v(bucket, caller, component, method, ${SUM_COLUMNS.join(', ')})
  ON CONFLICT (bucket, caller, component, method, res) DO UPDATE SET ${addExcluded}`;

/**
 * Moves rows of resolution $1 older than $2 into resolution $3 (buckets aligned to $3 seconds since
 * the epoch), in one statement: the totals stay what they were. Returns how many rows moved.
 */
export const DOWNSAMPLE_SQL = `WITH moved AS (DELETE FROM fv_stats_rollups WHERE res = $1::integer AND bucket < $2::timestamptz RETURNING *),
  merged AS (
    INSERT INTO fv_stats_rollups AS t (bucket, caller, component, method, res, ${SUM_COLUMNS.join(', ')})
    SELECT to_timestamp(floor(extract(epoch FROM bucket) / $3::integer) * $3::integer), caller, component, method, $3::integer, ${SUM_COLUMNS.map((c) => `sum(${c})`).join(', ')}
    FROM moved GROUP BY 1, caller, component, method
    ON CONFLICT (bucket, caller, component, method, res) DO UPDATE SET ${addExcluded}
    RETURNING 1)
  SELECT (SELECT count(*) FROM moved)::integer AS moved, (SELECT count(*) FROM merged)::integer AS merged`;

export const RETENTION_SQL = `DELETE FROM fv_stats_rollups WHERE bucket < $1::timestamptz`;
