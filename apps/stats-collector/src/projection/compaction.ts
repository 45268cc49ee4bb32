// Compaction of the rollups: per-minute rows older than `minuteAgeMs` and 10-minute rows older
// than `tenMinuteAgeMs` are deleted (the 10-minute and hourly rows of the same time, written with
// them, stay: that is the downsampling, and it keeps every total), rows older than `retentionMs`
// go, and the cuts are recorded (fv_stats_cuts) so that queries switch resolution exactly there.
// Cuts are aligned to the next coarser resolution (a coarse bucket is wholly on one side) and only
// move forward. It depends only on `now`, so a rebuilt projection compacted at the same `now`
// equals the live one; a late event's finer rows below a cut are never read and go at the next run.
import type { Pool } from 'pg';
import { RESOLUTIONS } from './rollup-sql';

export interface CompactionSettings {
  minuteAgeMs: number;
  tenMinuteAgeMs: number;
  retentionMs: number;
}

export interface CompactionResult {
  minuteRowsDeleted: number;
  tenMinuteRowsDeleted: number;
  expiredRowsDeleted: number;
}

function alignDown(ms: number, stepSeconds: number): Date {
  const step = stepSeconds * 1000;
  return new Date(Math.floor(ms / step) * step);
}

export async function compactRollups(pool: Pool, s: CompactionSettings, now: number = Date.now()): Promise<CompactionResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // The cuts, never moved back (a run with an earlier clock keeps the later cut).
    const stored = await client.query<{ res: number; cut: Date }>(
      `INSERT INTO fv_stats_cuts AS c (res, cut) VALUES ($1, $2), ($3, $4), ($5, $6)
        ON CONFLICT (res) DO UPDATE SET cut = greatest(c.cut, excluded.cut) RETURNING res, cut`,
      [RESOLUTIONS.minute, alignDown(now - s.minuteAgeMs, RESOLUTIONS.tenMinutes), RESOLUTIONS.tenMinutes, alignDown(now - s.tenMinuteAgeMs, RESOLUTIONS.hour), RESOLUTIONS.hour, alignDown(now - s.retentionMs, RESOLUTIONS.hour)],
    );
    const cut = new Map(stored.rows.map((r) => [r.res, r.cut]));
    const minute = await client.query('DELETE FROM fv_stats_rollups WHERE res = $1 AND bucket < $2', [RESOLUTIONS.minute, cut.get(RESOLUTIONS.minute)]);
    const ten = await client.query('DELETE FROM fv_stats_rollups WHERE res = $1 AND bucket < $2', [RESOLUTIONS.tenMinutes, cut.get(RESOLUTIONS.tenMinutes)]);
    const expired = await client.query('DELETE FROM fv_stats_rollups WHERE bucket < $1', [cut.get(RESOLUTIONS.hour)]);
    await client.query('COMMIT');
    return { minuteRowsDeleted: minute.rowCount ?? 0, tenMinuteRowsDeleted: ten.rowCount ?? 0, expiredRowsDeleted: expired.rowCount ?? 0 };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

/** The stored cuts, by resolution. */
export async function loadCuts(pool: Pool): Promise<Map<number, Date>> {
  const r = await pool.query<{ res: number; cut: Date }>('SELECT res, cut FROM fv_stats_cuts');
  return new Map(r.rows.map((x) => [x.res, x.cut]));
}
