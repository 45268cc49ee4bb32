// Migration: tables of the stats-collector's projection.
// fv_stats_rollups holds every count three times over by dimension ("views": caller × component ×
// method; caller × component; component × method, the dropped dimension stored as '') and three
// times over by resolution (res = 60, 600, 3600 seconds), all written as events are folded: a query
// reads the smallest view that has its dimensions and the coarsest resolution its step allows, so
// a month of one caller at a 1-hour step is a few thousand rows, not a few million. Compaction
// deletes per-minute rows past the minute age and 10-minute rows past the ten-minute age (the
// coarser rows of the same time stay: that is the downsampling), everything past the retention,
// and records where it cut in fv_stats_cuts so that queries switch resolution exactly there.
// Latency as 15 bucket columns (l0..l14, the contracts' LATENCY_BUCKETS_MS and +Inf): plain sums.
// Anomalies: one row per CallRateAnomaly, closed by its CallRateRecovered.
import type { MigrationInterface, QueryRunner } from 'typeorm';

const LAT = Array.from({ length: 15 }, (_, i) => `l${i} bigint NOT NULL DEFAULT 0`).join(',\n        ');

export class CreateStatsRollups1767225600020 implements MigrationInterface {
  readonly name = 'CreateStatsRollups1767225600020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fv_stats_rollups (
        view             smallint NOT NULL,
        res              integer NOT NULL,
        bucket           timestamptz NOT NULL,
        caller           text NOT NULL,
        component        text NOT NULL,
        method           text NOT NULL,
        calls            bigint NOT NULL,
        errors           bigint NOT NULL,
        transport_errors bigint NOT NULL,
        ${LAT},
        PRIMARY KEY (view, res, bucket, caller, component, method)
      )`);
    await q.query(`CREATE INDEX fv_stats_rollups_caller ON fv_stats_rollups (view, res, caller, bucket) WHERE view IN (0, 1)`);
    await q.query(`CREATE INDEX fv_stats_rollups_component ON fv_stats_rollups (view, res, component, bucket) WHERE view IN (0, 2)`);
    await q.query(`CREATE TABLE fv_stats_cuts (res integer PRIMARY KEY, cut timestamptz NOT NULL)`);
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
    await q.query(`DROP TABLE IF EXISTS fv_stats_cuts`);
    await q.query(`DROP TABLE IF EXISTS fv_stats_rollups`);
  }
}
