// Migration: event payloads stored as json (text) instead of jsonb, and the append functions take
// their batches as json.
//
// Why: nothing in the database looks inside data or metadata (no index, no containment query); the
// log only stores them and hands them back. jsonb paid for a binary form nobody used, twice: on every
// append (parse into the tree, sort the keys) and on every read (print the tree back to text). With
// json the write validates the text once and stores it as given, and a read copies it out: the
// server's CPU per event read fell by a third to a half in the measurements behind this change
// (docs/benchmarks.md). Readers see the same values; only key order and whitespace are now the
// writer's own instead of jsonb's (nobody relied on jsonb's order: see the chain-watcher harness).
//
// The functions keep their names, results and errors; only the batch parameter's type changes, and
// every field of an event is read in one pass (json_to_recordset) instead of a jsonb tree plus one
// lookup per field. Migrating an existing log rewrites fv_events once (ALTER COLUMN TYPE).
//
// Two fast paths come with it, both without ON CONFLICT and with the event counts given by the
// caller: fv_append_fast (one stream) and fv_append_group (each batch now carries "count"). An id
// stored already makes them fail with unique_violation on fv_events_event_id_key, and the client
// sends the same appends to the careful functions (fv_append_to_stream, fv_append_to_streams).
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DUPLICATE_EVENT_ID_SQLSTATE, WRONG_EXPECTED_VERSION_SQLSTATE } from './1767225600001-create-append-function';
import { AppendFastPath1767225600003 } from './1767225600003-append-fast-path';
import { APPEND_MANY_HINT_PREFIX, AppendMany1767225600004, STREAM_LOCK_CLASS } from './1767225600004-append-many';
import { APPEND_GROUP_SLOW_PATH_SQLSTATE, AppendGroup1767225600005 } from './1767225600005-append-group';

/**
 * Stream ids and types hold no character JSON must escape (quote, backslash, control characters;
 * the contracts' patterns allow far less), so readAll can put them into its JSON text as they are
 * instead of through to_json per row.
 */
export const NAMES_JSON_SAFE_CONSTRAINT = 'fv_events_names_json_safe';

/** The columns of one event in a batch, read in one pass over its JSON object. */
const EVENT_RECORD = `(id uuid, type text, version integer, data json, metadata json, "occurredAt" timestamptz)`;
const EVENT_FIELDS = `(id, type, version, data, metadata, occurred_at, n)`;

export class JsonPayloads1767225600006 implements MigrationInterface {
  readonly name = 'JsonPayloads1767225600006';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION fv_append_group(jsonb)`);
    await q.query(`DROP FUNCTION fv_append_to_streams(jsonb)`);
    await q.query(`DROP FUNCTION fv_append_to_stream(text, text, jsonb)`);
    await q.query(`
      ALTER TABLE fv_events
        ALTER COLUMN data TYPE json USING data::json,
        ALTER COLUMN metadata DROP DEFAULT,
        ALTER COLUMN metadata TYPE json USING metadata::json,
        ALTER COLUMN metadata SET DEFAULT '{}'::json,
        ADD CONSTRAINT ${NAMES_JSON_SAFE_CONSTRAINT} CHECK (stream_id !~ '[\\x01-\\x1f"\\\\]' AND type !~ '[\\x01-\\x1f"\\\\]')`);

    // fv_append_to_stream: migration 0003's function, reading the batch as json.
    await q.query(`
      CREATE FUNCTION fv_append_to_stream(p_stream_id text, p_expected text, p_events json,
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
        v_new json := p_events;
        v_count integer;
        v_prev_xid xid8;
      BEGIN
        IF json_typeof(p_events) IS DISTINCT FROM 'array' THEN
          RAISE EXCEPTION 'fv_append_to_stream: events must be a JSON array' USING ERRCODE = '22023';
        END IF;
        v_total := json_array_length(p_events);

        IF v_total = 0 THEN
          v_current := coalesce((SELECT s.version FROM fv_streams s WHERE s.stream_id = p_stream_id), 0);
          IF NOT fv_expected_version_matches(p_expected, v_current) THEN
            RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
              MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
          END IF;
          next_version := v_current;
          appended := 0;
          RETURN;
        END IF;

        -- Row lock, version reservation, last writer's xid: see migration 0003.
        INSERT INTO fv_streams AS s (stream_id, version) VALUES (p_stream_id, v_total)
          ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_total, prev_xid = s.last_xid, last_xid = pg_current_xact_id()
          RETURNING s.version - v_total, s.prev_xid INTO v_current, v_prev_xid;

        WITH inserted AS (
          INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
          SELECT x.id, p_stream_id, v_current + x.n, x.type, x.version, x.data, coalesce(x.metadata, '{}'::json), x.occurred_at
            FROM ROWS FROM (json_to_recordset(p_events) AS ${EVENT_RECORD}) WITH ORDINALITY AS x${EVENT_FIELDS}
           ORDER BY x.n
          ON CONFLICT (event_id) DO NOTHING
          RETURNING global_position
        )
        SELECT count(*), max(global_position) INTO v_count, last_global_position FROM inserted;

        IF v_count < v_total THEN
          -- A retry (some ids stored before): take the optimistic rows back and go the careful way.
          v_ids := ARRAY(SELECT x.id FROM json_to_recordset(p_events) AS x(id uuid));
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
            UPDATE fv_streams SET version = v_current, last_xid = v_prev_xid WHERE stream_id = p_stream_id;
            next_version := v_current;
            appended := 0;
            last_global_position := NULL;
            RETURN;
          END IF;
          SELECT json_agg(x.e ORDER BY x.n) INTO v_new
            FROM json_array_elements(p_events) WITH ORDINALITY AS x(e, n)
           WHERE NOT EXISTS (SELECT 1 FROM fv_events ev WHERE ev.event_id = (x.e->>'id')::uuid);
          UPDATE fv_streams SET version = v_current + v_total - v_stored WHERE stream_id = p_stream_id;
          IF NOT fv_expected_version_matches(p_expected, v_current) THEN
            RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
              MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
          END IF;
          WITH inserted AS (
            INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
            SELECT x.id, p_stream_id, v_current + x.n, x.type, x.version, x.data, coalesce(x.metadata, '{}'::json), x.occurred_at
              FROM ROWS FROM (json_to_recordset(v_new) AS ${EVENT_RECORD}) WITH ORDINALITY AS x${EVENT_FIELDS}
             ORDER BY x.n
            RETURNING global_position
          )
          SELECT count(*), max(global_position) INTO v_count, last_global_position FROM inserted;
        ELSIF NOT fv_expected_version_matches(p_expected, v_current) THEN
          RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
            MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
        END IF;

        -- The ordering guard: see migration 0003.
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

    // fv_append_fast: the common case of a single append in as little work as it takes. The caller
    // gives the event count (no pass over the batch to count it; checked against what was
    // inserted), and the insert has no ON CONFLICT: an id stored already (a retry, or an id of
    // another stream) fails it with unique_violation on fv_events_event_id_key, nothing is kept,
    // and the caller sends the same append to fv_append_to_stream, which handles those cases. An
    // ON CONFLICT arbiter costs an extra index probe per event on every append for a case that
    // only retries meet.
    await q.query(`
      CREATE FUNCTION fv_append_fast(p_stream_id text, p_expected text, p_events json, p_count integer,
        OUT next_version bigint, OUT appended integer, OUT last_transaction_id xid8, OUT last_global_position bigint)
      LANGUAGE plpgsql
      SET enable_seqscan = off
      SET plan_cache_mode = force_generic_plan
      AS $fn$
      DECLARE
        v_current bigint;
        v_count integer;
        v_prev_xid xid8;
      BEGIN
        IF p_count IS NULL OR p_count < 1 THEN
          RAISE EXCEPTION 'fv_append_fast: the count must be at least 1 (empty appends go to fv_append_to_stream)' USING ERRCODE = '22023';
        END IF;
        INSERT INTO fv_streams AS s (stream_id, version) VALUES (p_stream_id, p_count)
          ON CONFLICT (stream_id) DO UPDATE SET version = s.version + p_count, prev_xid = s.last_xid, last_xid = pg_current_xact_id()
          RETURNING s.version - p_count, s.prev_xid INTO v_current, v_prev_xid;
        WITH inserted AS (
          INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
          SELECT x.id, p_stream_id, v_current + x.n, x.type, x.version, x.data, coalesce(x.metadata, '{}'::json), x.occurred_at
            FROM ROWS FROM (json_to_recordset(p_events) AS ${EVENT_RECORD}) WITH ORDINALITY AS x${EVENT_FIELDS}
           ORDER BY x.n
          RETURNING global_position
        )
        SELECT count(*), max(global_position) INTO v_count, last_global_position FROM inserted;
        IF v_count <> p_count THEN
          RAISE EXCEPTION 'fv_append_fast: % events given, the count says %', v_count, p_count USING ERRCODE = '22023';
        END IF;
        IF NOT fv_expected_version_matches(p_expected, v_current) THEN
          RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = v_current::text,
            MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', p_stream_id, p_expected, v_current);
        END IF;
        IF v_current > 0 THEN
          IF v_prev_xid IS NULL THEN
            SELECT ev.transaction_id INTO v_prev_xid FROM fv_events ev WHERE ev.stream_id = p_stream_id AND ev.stream_version = v_current;
          END IF;
          IF v_prev_xid > pg_current_xact_id() THEN
            RAISE EXCEPTION USING ERRCODE = '40001',
              MESSAGE = format('append to stream %s raced a writer with a newer transaction id; retry', p_stream_id);
          END IF;
        END IF;
        next_version := v_current + v_count;
        appended := v_count;
        last_transaction_id := pg_current_xact_id();
      END;
      $fn$`);

    // fv_append_to_streams: migration 0004's function, reading the batches as json.
    await q.query(`
      CREATE FUNCTION fv_append_to_streams(p_batches json)
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
        IF json_typeof(p_batches) IS DISTINCT FROM 'array' THEN
          RAISE EXCEPTION 'fv_append_to_streams: batches must be a JSON array' USING ERRCODE = '22023';
        END IF;
        BEGIN
          PERFORM pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, k.h)
            FROM (SELECT DISTINCT hashtext(x.stream) AS h FROM json_to_recordset(p_batches) AS x(stream text) ORDER BY 1) AS k;
          FOR r IN
            SELECT (x.n - 1)::integer AS idx, x.stream, coalesce(x.expected, 'any') AS expected, x.events
              FROM ROWS FROM (json_to_recordset(p_batches) AS (stream text, expected text, events json)) WITH ORDINALITY AS x(stream, expected, events, n)
             ORDER BY x.stream COLLATE "C", x.n
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

    // fv_append_group: migration 0005's function, reading the batches as json.
    await q.query(`
      CREATE FUNCTION fv_append_group(p_batches json)
      RETURNS TABLE (batch integer, next_version bigint, appended integer, last_transaction_id xid8, last_global_position bigint)
      LANGUAGE plpgsql
      AS $fn$
      DECLARE
        r record;
        v_xid xid8;
        v_prev xid8;
      BEGIN
        IF json_typeof(p_batches) IS DISTINCT FROM 'array' THEN
          RAISE EXCEPTION 'fv_append_group: batches must be a JSON array' USING ERRCODE = '22023';
        END IF;
        PERFORM pg_advisory_xact_lock(${STREAM_LOCK_CLASS}, k.h)
          FROM (SELECT DISTINCT hashtext(x.stream) AS h FROM json_to_recordset(p_batches) AS x(stream text) ORDER BY 1) AS k;
        FOR r IN
          WITH b AS (
            SELECT (x.n - 1)::integer AS idx, x.stream, coalesce(x.expected, 'any') AS expected, x.events, x.count AS total
              FROM ROWS FROM (json_to_recordset(p_batches) AS (stream text, expected text, count integer, events json)) WITH ORDINALITY AS x(stream, expected, count, events, n)
          ),
          s AS (
            INSERT INTO fv_streams AS s (stream_id, version)
            SELECT b.stream, b.total FROM b WHERE b.total > 0 ORDER BY b.stream COLLATE "C"
            ON CONFLICT (stream_id) DO UPDATE SET version = s.version + excluded.version, prev_xid = s.last_xid, last_xid = pg_current_xact_id()
            RETURNING s.stream_id, s.version, s.prev_xid
          ),
          e AS (
            INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
            SELECT x.id, b.stream, s.version - b.total + x.n, x.type, x.version, x.data, coalesce(x.metadata, '{}'::json), x.occurred_at
              FROM b JOIN s ON s.stream_id = b.stream
             CROSS JOIN LATERAL ROWS FROM (json_to_recordset(b.events) AS ${EVENT_RECORD}) WITH ORDINALITY AS x${EVENT_FIELDS}
             ORDER BY b.stream COLLATE "C", x.n
            RETURNING stream_id, global_position
          ),
          c AS (SELECT e.stream_id, count(*)::integer AS cnt, max(e.global_position) AS last FROM e GROUP BY e.stream_id)
          SELECT b.idx, b.stream, b.expected, b.total, s.version AS reached, s.prev_xid, coalesce(c.cnt, 0) AS cnt, c.last
            FROM b LEFT JOIN s ON s.stream_id = b.stream LEFT JOIN c ON c.stream_id = b.stream
           ORDER BY b.stream COLLATE "C"
        LOOP
          IF r.total IS NULL OR r.total < 1 OR r.reached IS NULL THEN
            RAISE EXCEPTION 'fv_append_group: batch % (stream %) needs the careful path', r.idx, r.stream
              USING ERRCODE = '${APPEND_GROUP_SLOW_PATH_SQLSTATE}';
          END IF;
          IF r.cnt <> r.total THEN
            RAISE EXCEPTION 'fv_append_group: batch % (stream %) holds % events, its count says %', r.idx, r.stream, r.cnt, r.total
              USING ERRCODE = '22023';
          END IF;
          IF NOT fv_expected_version_matches(r.expected, r.reached - r.total) THEN
            RAISE EXCEPTION USING ERRCODE = '${WRONG_EXPECTED_VERSION_SQLSTATE}', DETAIL = (r.reached - r.total)::text,
              MESSAGE = format('wrong expected version for stream %s: expected %s, actual %s', r.stream, r.expected, r.reached - r.total),
              HINT = format('${APPEND_MANY_HINT_PREFIX}%s (stream %s)', r.idx, r.stream);
          END IF;
          v_xid := pg_current_xact_id();
          IF r.reached > r.total THEN
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
    await q.query(`DROP FUNCTION fv_append_fast(text, text, json, integer)`);
    await q.query(`DROP FUNCTION fv_append_group(json)`);
    await q.query(`DROP FUNCTION fv_append_to_streams(json)`);
    await q.query(`DROP FUNCTION fv_append_to_stream(text, text, json)`);
    await q.query(`
      ALTER TABLE fv_events
        DROP CONSTRAINT ${NAMES_JSON_SAFE_CONSTRAINT},
        ALTER COLUMN data TYPE jsonb USING data::jsonb,
        ALTER COLUMN metadata DROP DEFAULT,
        ALTER COLUMN metadata TYPE jsonb USING metadata::jsonb,
        ALTER COLUMN metadata SET DEFAULT '{}'::jsonb`);
    // The jsonb versions, as their migrations create them (0003's up drops the version-1 function first).
    await q.query(`CREATE FUNCTION fv_append_to_stream(p_stream_id text, p_expected text, p_events jsonb) RETURNS void LANGUAGE sql AS 'SELECT NULL'`);
    await q.query(`ALTER TABLE fv_streams DROP COLUMN last_xid, DROP COLUMN prev_xid`);
    await new AppendFastPath1767225600003().up(q);
    await new AppendMany1767225600004().up(q);
    await new AppendGroup1767225600005().up(q);
  }
}
