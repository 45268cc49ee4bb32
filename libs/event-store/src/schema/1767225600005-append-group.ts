// Migration: fv_append_group, a set-based fast path for group commits.
//
// fv_append_to_streams (migration 0004) runs fv_append_to_stream once per stream inside a
// subtransaction: per stream a function call, its GUC settings, five SPI statements and their
// executor start-up. Measured on the 2-core machine, a group of 8 single-event appends cost almost
// what 8 separate appends cost minus their commits, so grouping concurrent appends bought little.
// This function does the same work for the whole group in three statements: one takes the advisory
// locks in key order (as 0004 does, for the same reason), one upserts every stream row (locks them
// in stream-id byte order and reserves the versions) and inserts every event, and one loop over the
// per-stream results checks them.
//
// Same rules as a single append for every batch: the expected version (refusal: FVWEV with the
// actual version in DETAIL), the ordering guard (40001 when the stream's last writer has a newer
// xid; the client retries), the batch index in a HINT 'fv_append_to_streams batch <i> (stream <s>)'
// as 0004 gives it. Two cases it does not handle itself, raising FVSLO instead so that the caller
// takes the careful way (fv_append_to_streams, or single appends), after this call rolled back whole:
// an event id that is stored already (a retry, or an id used in another stream), and a batch without
// events (only an expected-version check; it must not create the stream).
//
// Returns one row per batch: its index in p_batches, next version, events appended, the
// transaction id and the last global position written for it, in stream-id order.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { WRONG_EXPECTED_VERSION_SQLSTATE } from './1767225600001-create-append-function';
import { APPEND_MANY_HINT_PREFIX, STREAM_LOCK_CLASS } from './1767225600004-append-many';

/** fv_append_group could not take the fast path: nothing was written, use fv_append_to_streams. */
export const APPEND_GROUP_SLOW_PATH_SQLSTATE = 'FVSLO';

export class AppendGroup1767225600005 implements MigrationInterface {
  readonly name = 'AppendGroup1767225600005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION fv_append_group(p_batches jsonb)
      RETURNS TABLE (batch integer, next_version bigint, appended integer, last_transaction_id xid8, last_global_position bigint)
      LANGUAGE plpgsql
      AS $fn$
      DECLARE
        r record;
        v_xid xid8;
        v_prev xid8;
      BEGIN
        IF jsonb_typeof(p_batches) IS DISTINCT FROM 'array' THEN
          RAISE EXCEPTION 'fv_append_group: batches must be a JSON array' USING ERRCODE = '22023';
        END IF;
        PERFORM pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, k.h)
          FROM (SELECT DISTINCT hashtext(x.b->>'stream') AS h FROM jsonb_array_elements(p_batches) AS x(b) ORDER BY 1) AS k;
        FOR r IN
          WITH b AS (
            SELECT (x.n - 1)::integer AS idx, x.b->>'stream' AS stream, coalesce(x.b->>'expected', 'any') AS expected,
                   x.b->'events' AS events, jsonb_array_length(x.b->'events') AS total
              FROM jsonb_array_elements(p_batches) WITH ORDINALITY AS x(b, n)
          ),
          s AS (
            INSERT INTO fv_streams AS s (stream_id, version)
            SELECT b.stream, b.total FROM b WHERE b.total > 0 ORDER BY b.stream COLLATE "C"
            ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version, prev_xid = s.last_xid, last_xid = pg_current_xact_id()
            RETURNING s.stream_id, s.version, s.prev_xid
          ),
          e AS (
            INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
            SELECT (x.e->>'id')::uuid, b.stream, s.version - b.total + x.n, x.e->>'type', (x.e->>'version')::integer,
                   x.e->'data', coalesce(x.e->'metadata', '{}'::jsonb), (x.e->>'occurredAt')::timestamptz
              FROM b JOIN s ON s.stream_id = b.stream
             CROSS JOIN LATERAL jsonb_array_elements(b.events) WITH ORDINALITY AS x(e, n)
             ORDER BY b.stream COLLATE "C", x.n
            ON CONFLICT (event_id) DO NOTHING
            RETURNING stream_id, global_position
          ),
          c AS (SELECT e.stream_id, count(*)::integer AS cnt, max(e.global_position) AS last FROM e GROUP BY e.stream_id)
          SELECT b.idx, b.stream, b.expected, b.total, s.version AS reached, s.prev_xid, coalesce(c.cnt, 0) AS cnt, c.last
            FROM b LEFT JOIN s ON s.stream_id = b.stream LEFT JOIN c ON c.stream_id = b.stream
           ORDER BY b.stream COLLATE "C"
        LOOP
          IF r.total = 0 OR r.cnt < r.total OR r.reached IS NULL THEN
            RAISE EXCEPTION 'fv_append_group: batch % (stream %) needs the careful path', r.idx, r.stream
              USING ERRCODE = '${APPEND_GROUP_SLOW_PATH_SQLSTATE}';
          END IF;
          IF NOT fv_expected_version_matches(r.expected, r.reached - r.total) THEN
            RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = (r.reached - r.total)::text,
              MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', r.stream, r.expected, r.reached - r.total),
              HINT = format('${APPEND_MANY_HINT_PREFIX}%s (stream %s)', r.idx, r.stream);
          END IF;
          v_xid := pg_current_xact_id();
          IF r.reached > r.total THEN
            -- The ordering guard of fv_append_to_stream (a stream written before last_xid existed, or
            -- whose first writer left it unknown, is probed once).
            v_prev := r.prev_xid;
            IF v_prev IS NULL THEN
              SELECT ev.transaction_id INTO v_prev FROM fv_events ev WHERE ev.stream_id = r.stream AND ev.stream_version = r.reached - r.total;
            END IF;
            IF v_prev > v_xid THEN
              RAISE EXCEPTION USING ERRCODE = '40001',
                MESSAGE = format('append to stream %s raced a writer with a newer transaction id; retry', r.stream),
                HINT = format('${APPEND_MANY_HINT_PREFIX}%s (stream %s)', r.idx, r.stream);
            END IF;
          END IF;
          batch := r.idx;
          next_version := r.reached;
          appended := r.cnt;
          last_transaction_id := v_xid;
          last_global_position := r.last;
          RETURN NEXT;
        END LOOP;
      END;
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS fv_append_group(jsonb)`);
  }
}
