// Compaction of the rollups: per-minute rows older than `minuteAgeMs` become 10-minute rows,
// 10-minute rows older than `tenMinuteAgeMs` hourly rows, and rows older than `retentionMs` go.
// Each step is one statement that moves rows and keeps their totals. It depends only on `now`, so a
// rebuilt projection compacted at the same `now` equals the live one (cuts only ever move forward;
// a late event's minute row is merged at the next run). Cuts are aligned to the coarser resolution,
// so a coarse bucket is never half minute rows and half merged.
import type { Pool, PoolClient } from 'pg';
import { DOWNSAMPLE_SQL, RESOLUTIONS, RETENTION_SQL } from './rollup-sql';

export interface CompactionSettings {
  minuteAgeMs: number;
  tenMinuteAgeMs: number;
  retentionMs: number;
}

export interface CompactionResult {
  toTenMinutes: number;
  toHours: number;
  deleted: number;
}

function alignDown(ms: number, stepSeconds: number): Date {
  const step = stepSeconds * 1000;
  return new Date(Math.floor(ms / step) * step);
}

export async function compactRollups(db: Pool | PoolClient, s: CompactionSettings, now: number = Date.now()): Promise<CompactionResult> {
  const ten = await db.query<{ moved: number }>(DOWNSAMPLE_SQL, [RESOLUTIONS.minute, alignDown(now - s.minuteAgeMs, RESOLUTIONS.tenMinutes), RESOLUTIONS.tenMinutes]);
  const hour = await db.query<{ moved: number }>(DOWNSAMPLE_SQL, [RESOLUTIONS.tenMinutes, alignDown(now - s.tenMinuteAgeMs, RESOLUTIONS.hour), RESOLUTIONS.hour]);
  const gone = await db.query(RETENTION_SQL, [alignDown(now - s.retentionMs, RESOLUTIONS.hour)]);
  return { toTenMinutes: ten.rows[0]!.moved, toHours: hour.rows[0]!.moved, deleted: gone.rowCount ?? 0 };
}
