// Migration: fv_append_to_streams, the group commit. One call (one statement, one transaction, one
// commit) appends to many streams: p_batches is a JSON array of {stream, expected, events}, and
// every batch goes through fv_append_to_stream exactly as a single append would (stream row lock
// and version reservation, idempotency by event id, expected version, the last_xid/prev_xid
// ordering guard). Streams are taken in one deterministic order (stream id, byte order) whatever the
// order of the array, so two group commits over overlapping streams lock them in the same order and
// cannot deadlock on each other.
//
// Before any write, the call takes a transaction advisory lock per stream (two-int4 key space, class
// STREAM_LOCK_CLASS, key hashtext(stream id)), in key order (so a hash collision cannot invert the
// order between two groups). Taking them needs no transaction id, so the xid is assigned only after
// every lock is ours: without them a group got its xid at its first stream and could then wait, at a
// later stream, behind a group with a newer xid, and the ordering guard (stream order = global
// order) refused it with 40001, again and again under contention. Group commits over overlapping streams now run one after the other, in xid order.
// (A single fv_append_to_stream takes no advisory lock; racing one, a group may still get 40001,
// which the client retries, as single appends racing each other always have.)
//
// All or nothing: the first refusal raises out of the whole call (nothing of any batch is kept),
// with the SQLSTATE, message, detail and constraint of the single append, and a HINT
// 'fv_append_to_streams batch <i> (stream <s>)' naming which batch (0-based, in the caller's
// order) failed, so the client raises the same typed error for that stream. The hint costs one
// subtransaction per call (the EXCEPTION block), not one per stream.
//
// Returns one row per batch: its index in p_batches and what fv_append_to_stream returned for it,
// in lock order (= the global order of what was written).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export const APPEND_MANY_HINT_PREFIX = 'fv_append_to_streams batch ';
/** Class (first int4 key) of the per-stream advisory locks of group commits: 'FVST'. */
export const STREAM_LOCK_CLASS = 0x46565354;

export class AppendMany1767225600004 implements MigrationInterface {
  readonly name = 'AppendMany1767225600004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION fv_append_to_streams(p_batches jsonb)
      RETURNS TABLE (batch integer, next_version bigint, appended integer, last_transaction_id xid8, last_global_position bigint)
      LANGUAGE plpgsql
      AS $fn$
      DECLARE
        r record;
        v_batch integer;
        v_stream text;
        v_state text;
        v_message text;
        v_detail text;
        v_constraint text;
      BEGIN
        IF jsonb_typeof(p_batches) IS DISTINCT FROM 'array' THEN
          RAISE EXCEPTION 'fv_append_to_streams: batches must be a JSON array' USING ERRCODE = '22023';
        END IF;
        BEGIN
          -- Serialize with overlapping group commits before this transaction has an xid.
          FOR r IN
            SELECT DISTINCT hashtext(x.b->>'stream') AS h FROM jsonb_array_elements(p_batches) AS x(b) ORDER BY 1
          LOOP
            PERFORM pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, r.h);
          END LOOP;
          FOR r IN
            SELECT (x.n - 1)::integer AS idx, x.b->>'stream' AS stream, coalesce(x.b->>'expected', 'any') AS expected, x.b->'events' AS events
              FROM jsonb_array_elements(p_batches) WITH ORDINALITY AS x(b, n)
             ORDER BY x.b->>'stream' COLLATE "C", x.n
          LOOP
            v_batch := r.idx;
            v_stream := r.stream;
            IF r.stream IS NULL THEN
              RAISE EXCEPTION 'fv_append_to_streams: batch without a stream' USING ERRCODE = '22023';
            END IF;
            SELECT r.idx, a.next_version, a.appended, a.last_transaction_id, a.last_global_position
              INTO batch, next_version, appended, last_transaction_id, last_global_position
              FROM fv_append_to_stream(r.stream, r.expected, r.events) AS a;
            RETURN NEXT;
          END LOOP;
        EXCEPTION WHEN OTHERS THEN
          GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
            v_constraint = CONSTRAINT_NAME;
          RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_message, DETAIL = v_detail, CONSTRAINT = v_constraint,
            HINT = format('${APPEND_MANY_HINT_PREFIX}%s (stream %s)', v_batch, v_stream);
        END;
      END;
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS fv_append_to_streams(jsonb)`);
  }
}
