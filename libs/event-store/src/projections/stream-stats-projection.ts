// StreamStatsProjection: how many events of each type the log holds and where each stream stands
// (tables fv_proj_event_counts and fv_proj_stream_heads, created by migration). Small, but a real
// projection: the CLI shows it, and tests use it to prove exactly-once and rebuild == live.
import type { ClientBase, Pool } from 'pg';
import type { RecordedEvent } from '@fleetvisor/contracts';
import { ALL_EVENT_TYPES, type Projection, type ProjectionTx } from './projection';
import { foldStreamStats, type StreamHead } from './stream-stats';

const SQL = {
  upsertCounts: `INSERT INTO fv_proj_event_counts AS c (type, count, last_global_position)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
    ON CONFLICT (type) DO UPDATE
      SET count = c.count + excluded.count, last_global_position = excluded.last_global_position`,
  upsertHeads: `INSERT INTO fv_proj_stream_heads AS h (stream_id, events, last_version, last_global_position, last_type, last_occurred_at)
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::timestamptz[])
    ON CONFLICT (stream_id) DO UPDATE SET
      events = h.events + excluded.events,
      last_version = greatest(h.last_version, excluded.last_version),
      last_global_position = CASE WHEN excluded.last_version > h.last_version THEN excluded.last_global_position ELSE h.last_global_position END,
      last_type = CASE WHEN excluded.last_version > h.last_version THEN excluded.last_type ELSE h.last_type END,
      last_occurred_at = CASE WHEN excluded.last_version > h.last_version THEN excluded.last_occurred_at ELSE h.last_occurred_at END`,
  reset: 'TRUNCATE fv_proj_event_counts, fv_proj_stream_heads',
  readCounts: 'SELECT type, count FROM fv_proj_event_counts ORDER BY type',
  readHeads: `SELECT stream_id, events, last_version, last_global_position, last_type,
      to_char(last_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_occurred_at
    FROM fv_proj_stream_heads ORDER BY stream_id`,
} as const;

export interface StreamStats {
  /** Events per type. */
  eventCounts: Record<string, number>;
  streams: StreamHead[];
}

export class StreamStatsProjection implements Projection {
  readonly name = 'stream-stats';
  readonly handles = ALL_EVENT_TYPES;

  async applyBatch(events: readonly RecordedEvent[], tx: ProjectionTx): Promise<void> {
    if (events.length === 0) return;
    const { types, streams } = foldStreamStats(events);
    await tx.query({
      name: 'fv_stream_stats_counts',
      text: SQL.upsertCounts,
      values: [types.map((t) => t.type), types.map((t) => t.count), types.map((t) => t.lastGlobalPosition)],
    });
    await tx.query({
      name: 'fv_stream_stats_heads',
      text: SQL.upsertHeads,
      values: [
        streams.map((s) => s.streamId),
        streams.map((s) => s.events),
        streams.map((s) => s.lastVersion),
        streams.map((s) => s.lastGlobalPosition),
        streams.map((s) => s.lastType),
        streams.map((s) => s.lastOccurredAt),
      ],
    });
  }

  async reset(tx: ProjectionTx): Promise<void> {
    await tx.query(SQL.reset);
  }
}

/** Reads the projection's current state. */
export async function readStreamStats(db: Pool | ClientBase): Promise<StreamStats> {
  const counts = await db.query<{ type: string; count: string }>(SQL.readCounts);
  const heads = await db.query<{
    stream_id: string;
    events: string;
    last_version: string;
    last_global_position: string;
    last_type: string;
    last_occurred_at: string;
  }>(SQL.readHeads);
  const eventCounts: Record<string, number> = {};
  for (const r of counts.rows) eventCounts[r.type] = Number(r.count);
  return {
    eventCounts,
    streams: heads.rows.map((r) => ({
      streamId: r.stream_id,
      events: Number(r.events),
      lastVersion: Number(r.last_version),
      lastGlobalPosition: r.last_global_position,
      lastType: r.last_type,
      lastOccurredAt: r.last_occurred_at,
    })),
  };
}
