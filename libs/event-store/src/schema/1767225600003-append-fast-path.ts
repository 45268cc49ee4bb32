// Migration: fv_append_to_stream with an optimistic fast path. The first version probed fv_events
// for the batch's ids before inserting (two statements: build the id array, count the stored
// ones), which every append paid although only a retry ever finds one. Now the insert itself
// skips ids already stored (ON CONFLICT (event_id) DO NOTHING) and the function compares what it
// inserted with what it was given: all of it is the common case, done; fewer means a retry, and the
// optimistic rows are deleted again and the append redone on the careful path of version 1 (same
// results, same errors).
//
// Two more statements go: the ordering guard no longer probes fv_events for the transaction id of
// the stream's last writer, because fv_streams now keeps it (last_xid, and prev_xid = the value the
// upsert replaced, which RETURNING can hand back); streams written before this migration have no
// last_xid and are probed as before. And the function returns one row through OUT parameters
// instead of RETURNS TABLE, which spared a tuplestore per call. Callers see the same columns.
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateAppendFunction1767225600001, DUPLICATE_EVENT_ID_SQLSTATE, WRONG_EXPECTED_VERSION_SQLSTATE } from './1767225600001-create-append-function';

export class AppendFastPath1767225600003 implements MigrationInterface {
  readonly name = 'AppendFastPath1767225600003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fv_streams ADD COLUMN last_xid xid8, ADD COLUMN prev_xid xid8`);
    await q.query(`DROP FUNCTION fv_append_to_stream(text, text, jsonb)`);
    await q.query(`
      CREATE FUNCTION fv_append_to_stream(p_stream_id text, p_expected text, p_events jsonb,
        OUT next_version bigint, OUT appended integer, OUT last_transaction_id xid8, OUT last_global_position bigint)
      LANGUAGE plpgsql
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
        v_prev_xid xid8;
      BEGIN
        IF jsonb_typeof(p_events) IS DISTINCT FROM 'array' THEN
          RAISE EXCEPTION 'fv_append_to_stream: events must be a JSON array' USING ERRCODE = '22023';
        END IF;
        v_total := jsonb_array_length(p_events);

        IF v_total = 0 THEN
          -- Nothing to write: only check the expected version, without creating the stream.
          v_current := coalesce((SELECT s.version FROM fv_streams s WHERE s.stream_id = p_stream_id), 0);
          IF NOT fv_expected_version_matches(p_expected, v_current) THEN
            RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
              MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
          END IF;
          next_version := v_current;
          appended := 0;
          RETURN;
        END IF;

        -- Lock the stream row (appends to one stream are serialized on it until commit) and reserve
        -- the versions. Every refusal below raises, which rolls the reservation back with the rest.
        -- It also records us as the stream's last writer and hands back the one before (prev_xid).
        -- Only SET may call pg_current_xact_id(): it runs after the row lock is ours, so the xid is
        -- taken in lock order. Taken in VALUES, it would be taken before waiting, out of order, and
        -- many more appends would fail the ordering guard below. A new stream's first writer leaves
        -- last_xid unknown, so its second writer probes fv_events once.
        INSERT INTO fv_streams AS s (stream_id, version) VALUES (p_stream_id, v_total)
          ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_total, prev_xid = s.last_xid, last_xid = pg_current_xact_id()
          RETURNING s.version - v_total, s.prev_xid INTO v_current, v_prev_xid;

        -- Fast path: insert everything, skipping ids that are stored already. ORDER BY keeps global
        -- positions in stream order (nextval runs after the sort).
        WITH inserted AS (
          INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
          SELECT (x.e->>'id')::uuid, p_stream_id, v_current + x.n, x.e->>'type', (x.e->>'version')::integer,
                 x.e->'data', coalesce(x.e->'metadata', '{}'::jsonb), (x.e->>'occurredAt')::timestamptz
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
           ORDER BY x.n
          ON CONFLICT (event_id) DO NOTHING
          RETURNING global_position
        )
        SELECT count(*), max(global_position) INTO v_count, last_global_position FROM inserted;

        IF v_count < v_total THEN
          -- A retry (some ids stored before): take the optimistic rows back and go the careful way.
          v_ids := ARRAY(SELECT (e->>'id')::uuid FROM jsonb_array_elements(p_events) AS e);
          DELETE FROM fv_events ev
           WHERE ev.stream_id = p_stream_id AND ev.stream_version > v_current AND ev.event_id = ANY (v_ids)
             AND ev.transaction_id = pg_current_xact_id();
          SELECT count(*), min(ev.stream_id) FILTER (WHERE ev.stream_id <> p_stream_id)
            INTO v_stored, v_foreign
            FROM fv_events ev WHERE ev.event_id = ANY (v_ids);
          IF v_foreign IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = '${DUPLICATE_EVENT_ID_SQLSTATE}',
              MESSAGE = format('an event id of this append is already stored in stream %s', v_foreign);
          END IF;
          IF v_stored = v_total THEN
            -- Everything is stored already: the retry succeeded earlier, whatever the version is now.
            -- We wrote nothing, so the last writer is still the one before us.
            UPDATE fv_streams SET version = v_current, last_xid = v_prev_xid WHERE stream_id = p_stream_id;
            next_version := v_current;
            appended := 0;
            last_global_position := NULL;
            RETURN;
          END IF;
          SELECT jsonb_agg(x.e ORDER BY x.n) INTO v_new
            FROM jsonb_array_elements(p_events) WITH ORDINALITY AS x(e, n)
           WHERE NOT EXISTS (SELECT 1 FROM fv_events ev WHERE ev.event_id = (x.e->>'id')::uuid);
          UPDATE fv_streams SET version = v_current + v_total - v_stored WHERE stream_id = p_stream_id;
          IF NOT fv_expected_version_matches(p_expected, v_current) THEN
            RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
              MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
          END IF;
          WITH inserted AS (
            INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
            SELECT (x.e->>'id')::uuid, p_stream_id, v_current + x.n, x.e->>'type', (x.e->>'version')::integer,
                   x.e->'data', coalesce(x.e->'metadata', '{}'::jsonb), (x.e->>'occurredAt')::timestamptz
              FROM jsonb_array_elements(v_new) WITH ORDINALITY AS x(e, n)
             ORDER BY x.n
            RETURNING global_position
          )
          SELECT count(*), max(global_position) INTO v_count, last_global_position FROM inserted;
        ELSIF NOT fv_expected_version_matches(p_expected, v_current) THEN
          RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
            MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
        END IF;

        -- Stream order must agree with the global order. Our xid was assigned when we asked for the
        -- row lock, so another writer that got a larger xid may have taken the lock first and
        -- committed the previous events; ours would then sort before them in (transaction_id,
        -- global_position). Refuse as a serialization failure: the client retries in a new
        -- transaction, whose xid is larger.
        -- (A stream last written before last_xid existed has none: probe its last event instead.)
        IF v_current > 0 AND coalesce(v_prev_xid, (SELECT ev.transaction_id FROM fv_events ev
                               WHERE ev.stream_id = p_stream_id AND ev.stream_version = v_current)) > pg_current_xact_id() THEN
          RAISE EXCEPTION USING ERRCODE = '40001',
            MESSAGE = format('append to stream %s raced a writer with a newer transaction id; retry', p_stream_id);
        END IF;

        next_version := v_current + v_count;
        appended := v_count;
        last_transaction_id := pg_current_xact_id();
      END;
      $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to version 1: drop this one and re-create version 1 as its migration does.
    const v1 = new CreateAppendFunction1767225600001();
    await v1.down(q);
    await v1.up(q);
    await q.query(`ALTER TABLE fv_streams DROP COLUMN last_xid, DROP COLUMN prev_xid`);
  }
}
