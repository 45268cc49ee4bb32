// Migration: tables of the stats-collector's projection. One table of rollups at three
// resolutions (res = 60, 600, 3600 seconds): per-minute rows as events arrive, merged into 10-minute
// and hourly rows by compaction as they age (totals kept). Latency as 15 bucket columns (l0..l14,
// the contracts' LATENCY_BUCKETS_MS and +Inf): plain sums in SQL, no array arithmetic.
// Anomalies: one row per CallRateAnomaly, closed by its CallRateRecovered.
import type { MigrationInterface, QueryRunner } from 'typeorm';

const LAT = Array.from({ length: 15 }, (_, i) => `l${i} bigint NOT NULL DEFAULT 0`).join(',\n        ');

export class CreateStatsRollups1767225600020 implements MigrationInterface {
  readonly name = 'CreateStatsRollups1767225600020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fv_stats_rollups (
        bucket           timestamptz NOT NULL,
        res              integer NOT NULL,
        caller           text NOT NULL,
        component        text NOT NULL,
        method           text NOT NULL,
        calls            bigint NOT NULL,
        errors           bigint NOT NULL,
        transport_errors bigint NOT NULL,
        ${LAT},
        PRIMARY KEY (bucket, caller, component, method, res)
      )`);
    await q.query(`CREATE INDEX fv_stats_rollups_caller ON fv_stats_rollups (caller, bucket)`);
    await q.query(`CREATE INDEX fv_stats_rollups_component ON fv_stats_rollups (component, bucket)`);
    await q.query(`
      CREATE TABLE fv_stats_anomalies (
        event_id          uuid PRIMARY KEY,
        caller            text NOT NULL,
        component         text NOT NULL,
        methods           text NOT NULL,
        direction         text NOT NULL,
        band              json NOT NULL,
        observed_per_min  double precision NOT NULL,
        outside_since     timestamptz NOT NULL,
        detected_at       timestamptz NOT NULL,
        recovered_at      timestamptz,
        recovered_per_min double precision
      )`);
    await q.query(`CREATE INDEX fv_stats_anomalies_detected ON fv_stats_anomalies (detected_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS fv_stats_anomalies`);
    await q.query(`DROP TABLE IF EXISTS fv_stats_rollups`);
  }
}
