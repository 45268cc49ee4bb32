// Migration: fv_append_to_stream, the one-round-trip append. Called in autocommit, it locks the
// stream row, drops events already stored (idempotency on event id), checks the expected version,
// inserts the rest and bumps the stream version. Refusals are raised (so the statement's
// transaction rolls back and nothing is left behind) with SQLSTATEs the client maps to typed errors:
//   FVWEV  wrong expected version; DETAIL holds the actual version
//   FVDID  an event id is already stored in another stream
//   40001  the append lost a race that would break stream order in the global order; retry
import type { MigrationInterface, QueryRunner } from 'typeorm';

export const WRONG_EXPECTED_VERSION_SQLSTATE = 'FVWEV';
export const DUPLICATE_EVENT_ID_SQLSTATE = 'FVDID';

export class CreateAppendFunction1767225600001 implements MigrationInterface {
  readonly name = 'CreateAppendFunction1767225600001';

  async up(q: QueryRunner): Promise<void> {
    // A plain SQL function so the planner can inline it into the plpgsql expressions below.
    await q.query(`
      CREATE FUNCTION fv_expected_version_matches(p_expected text, p_actual bigint) RETURNS boolean
      LANGUAGE sql IMMUTABLE AS $fn$
        SELECT CASE p_expected
          WHEN 'any' THEN true
          WHEN 'no_stream' THEN p_actual = 0
          WHEN 'stream_exists' THEN p_actual > 0
          ELSE p_actual = p_expected::bigint
        END
      $fn$`);
    await q.query(`
      CREATE FUNCTION fv_append_to_stream(p_stream_id text, p_expected text, p_events jsonb)
      RETURNS TABLE (next_version bigint, appended integer, last_transaction_id xid8, last_global_position bigint)
      LANGUAGE plpgsql
      -- Every statement here is an index probe. plpgsql keeps a session's plans, and a plan made
      -- while fv_events was nearly empty (before autoanalyze) would be a seq scan that grows with
      -- the table on every later call. Generic plans from the first call: the statements' shapes
      -- never change, and re-planning each call was ~9% of the server's CPU per append.
      SET enable_seqscan = off
      SET plan_cache_mode = force_generic_plan
      AS $fn$
      DECLARE
        v_current bigint;
        v_total integer;
        v_ids uuid[];
        v_stored integer;
        v_foreign text;
        v_new jsonb := p_events;
        v_count integer;
        v_last bigint;
      BEGIN
        IF jsonb_typeof(p_events) IS DISTINCT FROM 'array' THEN
          RAISE EXCEPTION 'fv_append_to_stream: events must be a JSON array' USING ERRCODE = '22023';
        END IF;

        IF jsonb_array_length(p_events) = 0 THEN
          -- Nothing to write: only check the expected version, without creating the stream.
          v_current := coalesce((SELECT s.version FROM fv_streams s WHERE s.stream_id = p_stream_id), 0);
          IF NOT fv_expected_version_matches(p_expected, v_current) THEN
            RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
              MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
          END IF;
          RETURN QUERY SELECT v_current, 0, NULL::xid8, NULL::bigint;
          RETURN;
        END IF;

        v_total := jsonb_array_length(p_events);
        -- One statement locks the stream row (from here to commit, appends to this stream are
        -- serialized on it) and reserves the versions. Every refusal below raises, which rolls the
        -- reservation back with the rest.
        INSERT INTO fv_streams AS s (stream_id, version) VALUES (p_stream_id, v_total)
          ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_total
          RETURNING s.version - v_total INTO v_current;

        -- Idempotency: a retried append (same event ids) must not store a second copy. (An array
        -- with = ANY keeps this to index probes; an IN (subquery) was planned as a full index scan.)
        v_ids := ARRAY(SELECT (e->>'id')::uuid FROM jsonb_array_elements(p_events) AS e);
        SELECT count(*), min(ev.stream_id) FILTER (WHERE ev.stream_id <> p_stream_id)
          INTO v_stored, v_foreign
          FROM fv_events ev WHERE ev.event_id = ANY (v_ids);
        IF v_foreign IS NOT NULL THEN
          RAISE EXCEPTION USING ERRCODE = '${DUPLICATE_EVENT_ID_SQLSTATE}',
            MESSAGE = format('an event id of this append is already stored in stream %s', v_foreign);
        END IF;
        IF v_stored = v_total THEN
          -- Everything is stored already: the retry succeeded earlier, whatever the version is now.
          UPDATE fv_streams SET version = v_current WHERE stream_id = p_stream_id;
          RETURN QUERY SELECT v_current, 0, NULL::xid8, NULL::bigint;
          RETURN;
        END IF;
        IF v_stored > 0 THEN
          SELECT jsonb_agg(x.e ORDER BY x.n) INTO v_new
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
           WHERE NOT EXISTS (SELECT 1 FROM fv_events ev WHERE ev.event_id = (x.e->>'id')::uuid);
          UPDATE fv_streams SET version = v_current + v_total - v_stored WHERE stream_id = p_stream_id;
        END IF;

        IF NOT fv_expected_version_matches(p_expected, v_current) THEN
          RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
            MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
        END IF;

        -- Stream order must agree with the global order. Our xid was assigned when we asked for the
        -- row lock, so another writer that got a larger xid may have taken the lock first and
        -- committed the previous events; ours would then sort before them in (transaction_id,
        -- global_position). Refuse as a serialization failure: the client retries in a new
        -- transaction, whose xid is larger.
        IF v_current > 0 AND (SELECT ev.transaction_id FROM fv_events ev
                               WHERE ev.stream_id = p_stream_id AND ev.stream_version = v_current) > pg_current_xact_id() THEN
          RAISE EXCEPTION USING ERRCODE = '40001',
            MESSAGE = format('append to stream %s raced a writer with a newer transaction id; retry', p_stream_id);
        END IF;

        -- ORDER BY keeps global positions in stream order (nextval runs after the sort).
        WITH inserted AS (
          INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
          SELECT (x.e->>'id')::uuid, p_stream_id, v_current + x.n, x.e->>'type', (x.e->>'version')::integer,
                 x.e->'data', coalesce(x.e->'metadata', '{}'::jsonb), (x.e->>'occurredAt')::timestamptz
            FROM jsonb_array_elements(v_new) WITH ORDINALITY AS x(e, n)
           ORDER BY x.n
          RETURNING global_position
        )
        SELECT count(*), max(global_position) INTO v_count, v_last FROM inserted;

        RETURN QUERY SELECT v_current + v_count, v_count, pg_current_xact_id(), v_last;
      END;
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION IF EXISTS fv_append_to_stream(text, text, jsonb)`);
    await q.query(`DROP FUNCTION IF EXISTS fv_expected_version_matches(text, bigint)`);
  }
}
