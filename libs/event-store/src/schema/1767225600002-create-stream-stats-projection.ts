// Migration: tables of StreamStatsProjection (events per type, head of each stream).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStreamStatsProjection1767225600002 implements MigrationInterface {
  readonly name = 'CreateStreamStatsProjection1767225600002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fv_proj_event_counts (
        type                 text PRIMARY KEY,
        count                bigint NOT NULL,
        last_global_position bigint NOT NULL
      )`);
    await q.query(`
      CREATE TABLE fv_proj_stream_heads (
        stream_id            text PRIMARY KEY,
        events               bigint NOT NULL,
        last_version         bigint NOT NULL,
        last_global_position bigint NOT NULL,
        last_type            text NOT NULL,
        last_occurred_at     timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS fv_proj_stream_heads`);
    await q.query(`DROP TABLE IF EXISTS fv_proj_event_counts`);
  }
}
