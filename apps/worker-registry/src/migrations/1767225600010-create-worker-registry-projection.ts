// Migration: tables of the worker-registry's projection (apps/worker-registry): one row per sealing
// worker, one per thread, and which worker threads each sector ran on (for `worker history --sector`).
// `last_seen` is the one column not folded from events: reports that change nothing only refresh
// it, in batches, so it survives restarts without turning heartbeats into events.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWorkerRegistryProjection1767225600010 implements MigrationInterface {
  readonly name = 'CreateWorkerRegistryProjection1767225600010';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE fv_proj_workers (
        name             text PRIMARY KEY,
        dest             text NOT NULL,
        version          text NOT NULL,
        threads          integer NOT NULL,
        registered_at    timestamptz NOT NULL,
        expired          boolean NOT NULL DEFAULT false,
        draining         boolean NOT NULL DEFAULT false,
        drain_started_at timestamptz,
        drained          boolean NOT NULL DEFAULT false,
        boot_id          text,
        accepted_seq     bigint NOT NULL DEFAULT 0,
        last_event_at    timestamptz NOT NULL,
        last_seen        timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX fv_proj_workers_dest ON fv_proj_workers (dest)`);
    await q.query(`
      CREATE TABLE fv_proj_threads (
        worker       text NOT NULL,
        idx          integer NOT NULL,
        plan         text NOT NULL,
        state        text NOT NULL,
        location     text,
        sector_id    text,
        paused       boolean NOT NULL DEFAULT false,
        paused_at    timestamptz,
        pause_reason text,
        last_error   text,
        updated_at   timestamptz NOT NULL,
        PRIMARY KEY (worker, idx)
      )`);
    await q.query(`
      CREATE TABLE fv_proj_worker_sectors (
        sector_id text NOT NULL,
        worker    text NOT NULL,
        idx       integer NOT NULL,
        first_at  timestamptz NOT NULL,
        last_at   timestamptz NOT NULL,
        PRIMARY KEY (sector_id, worker, idx)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS fv_proj_worker_sectors`);
    await q.query(`DROP TABLE IF EXISTS fv_proj_threads`);
    await q.query(`DROP TABLE IF EXISTS fv_proj_workers`);
  }
}
