// Migration: the event log tables (fv_streams, fv_events) and named checkpoints (fv_checkpoints).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateEventLog1767225600000 implements MigrationInterface {
  readonly name = 'CreateEventLog1767225600000';

  async up(q: QueryRunner): Promise<void> {
    // One row per stream: its version, and the row appends lock to serialize writers of a stream.
    await q.query(`
      CREATE TABLE fv_streams (
        stream_id text PRIMARY KEY,
        version   bigint NOT NULL DEFAULT 0 CHECK (version >= 0)
      )`);
    // No foreign key to fv_streams: fv_append_to_stream is the only writer and already holds the
    // stream row lock; a per-row RI trigger would cost more than the rest of the insert.
    await q.query(`
      CREATE TABLE fv_events (
        global_position bigserial   NOT NULL,
        transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
        event_id        uuid        NOT NULL,
        stream_id       text        NOT NULL,
        stream_version  bigint      NOT NULL CHECK (stream_version >= 1),
        type            text        NOT NULL,
        schema_version  integer     NOT NULL CHECK (schema_version >= 1),
        data            jsonb       NOT NULL,
        metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        occurred_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        -- The gap-free global order: readAll walks it below the snapshot xmin. As the primary key
        -- it is also the only index on positions (one index less to maintain per insert).
        CONSTRAINT fv_events_pkey PRIMARY KEY (transaction_id, global_position),
        CONSTRAINT fv_events_event_id_key UNIQUE (event_id),
        -- Also the readStream index: (stream_id, stream_version >= n) is a range scan on it.
        CONSTRAINT fv_events_stream_version_key UNIQUE (stream_id, stream_version)
      )`);
    await q.query(`
      CREATE TABLE fv_checkpoints (
        name       text PRIMARY KEY,
        checkpoint text NOT NULL CHECK (checkpoint ~ '^[0-9]+:[0-9]+$'),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS fv_checkpoints`);
    await q.query(`DROP TABLE IF EXISTS fv_events`);
    await q.query(`DROP TABLE IF EXISTS fv_streams`);
  }
}
