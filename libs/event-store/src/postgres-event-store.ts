// PostgresEventStore: the system of record. Appends are one autocommit call of fv_append_to_stream
// per batch (one round trip whatever the batch size); global reads are gap-free by reading only
// below the oldest running transaction. No LISTEN/NOTIFY on the write path (NOTIFY takes a global
// lock at commit and would serialize every append); in-process readers are woken by onAppended,
// other processes poll.
import type { Pool, QueryArrayConfig } from 'pg';
import { ContractViolationError, fleetEvents, type EventCatalog, type EventEnvelope, type RecordedEvent } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { AppendOptions, AppendResult, EventStore, ExpectedVersion, ReadAllResult, ReadStreamResult } from './types';
import { START_CHECKPOINT } from './types';
import { encodeAppendBatch } from './append-batch';
import { encodeExpectedVersion } from './expected-version';
import { compareCheckpoints, formatCheckpoint, maxCheckpoint, parseCheckpoint } from './checkpoint';
import { DuplicateEventIdError, WrongExpectedVersionError } from './errors';
import { EVENT_COLUMNS, eventBatchSelect, lastCheckpointOf, parseEventBatch, rawEventBatch, toRecordedEvent, type EventRow, type RawEventBatch } from './event-rows';
import { ReadAhead } from './read-ahead';
import { AppendCombiner, type AppendCombinerStats } from './append-combiner';
import { DUPLICATE_EVENT_ID_SQLSTATE, WRONG_EXPECTED_VERSION_SQLSTATE } from './schema/1767225600001-create-append-function';
import { APPEND_MANY_HINT_PREFIX } from './schema/1767225600004-append-many';
import { APPEND_GROUP_SLOW_PATH_SQLSTATE } from './schema/1767225600005-append-group';

export interface PostgresEventStoreOptions {
  /** Validates appends and upcasts reads (default: fleetEvents). */
  catalog?: EventCatalog;
  logger?: Logger;
  /** Read the next readAll batch while the caller processes a full one (default true). */
  readAhead?: boolean;
  /**
   * Group commit of concurrent small appendToStream calls (see append-combiner.ts): appends of
   * fewer than `smallAppendEvents` events made while `maxInFlight` earlier ones are in flight wait,
   * and go together as one transaction. Larger appends are sent at once (they pay for their own
   * commit, and at batch 100 throughput is bound by waits that more connections hide, not by CPU).
   * Default on: maxInFlight 2, smallAppendEvents 32, maxEvents 5,000, maxAppends 200. `false`: one
   * transaction per call.
   */
  groupCommit?: false | Partial<GroupCommitOptions>;
}

export interface GroupCommitOptions {
  maxInFlight: number;
  smallAppendEvents: number;
  maxEvents: number;
  maxAppends: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = { maxInFlight: 2, smallAppendEvents: 32, maxEvents: 5_000, maxAppends: 200 };

/** An append validated and encoded, ready to send alone or in a group. */
interface PreparedAppend {
  stream: string;
  expected: ExpectedVersion;
  expectedText: string;
  /** JSON array of the events. */
  json: string;
  count: number;
}

/** What onAppended listeners hear, after the append committed. */
export interface AppendedNotice {
  stream: string;
  appended: number;
  nextExpectedVersion: number;
  /** Checkpoint of the last event written: a reader has seen the append once it passed this. */
  checkpoint: string;
}

export type AppendedListener = (notice: AppendedNotice) => void;

/** One stream's part of a group commit (appendToStreams). */
export interface StreamAppend {
  stream: string;
  events: readonly EventEnvelope[];
  /** Default 'any', as for appendToStream. */
  expectedVersion?: ExpectedVersion;
}

const UNIQUE_VIOLATION = '23505';
const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';
const MAX_APPEND_ATTEMPTS = 5;
const EVENT_ID_CONSTRAINT = 'fv_events_event_id_key';

// Named statements: parsed and planned once per pooled connection.
const SQL = {
  append: 'SELECT next_version, appended, last_transaction_id, last_global_position FROM fv_append_to_stream($1, $2, $3::json)',
  appendFast: 'SELECT next_version, appended, last_transaction_id, last_global_position FROM fv_append_fast($1, $2, $3::json, $4)',
  appendMany: 'SELECT batch, next_version, appended, last_transaction_id, last_global_position FROM fv_append_to_streams($1::json)',
  appendGroup: 'SELECT batch, next_version, appended, last_transaction_id, last_global_position FROM fv_append_group($1::json)',
  readAll: eventBatchSelect(`SELECT e.* FROM fv_events e
    WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
      AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.transaction_id, e.global_position
    LIMIT $3`),
  // Filtered reads stop at a head computed before (and below the xmin), so that a batch holding no
  // matching event can still advance the caller past everything it scanned.
  readAllTypes: eventBatchSelect(`SELECT e.* FROM fv_events e
    WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint)
      AND (e.transaction_id, e.global_position) <= ($3::xid8, $4::bigint)
      AND e.type = ANY ($5::text[])
    ORDER BY e.transaction_id, e.global_position
    LIMIT $6`),
  head: `SELECT e.transaction_id::text, e.global_position::text FROM fv_events e
    WHERE e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
  lastCommitted: `SELECT e.transaction_id::text, e.global_position::text FROM fv_events e
    ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`,
  readStream: `SELECT ${EVENT_COLUMNS} FROM fv_events e
    WHERE e.stream_id = $1 AND e.stream_version >= $2
    ORDER BY e.stream_version
    LIMIT $3`,
  streamVersion: 'SELECT version FROM fv_streams WHERE stream_id = $1',
  storedIds: 'SELECT event_id::text, stream_id FROM fv_events WHERE event_id = ANY ($1::uuid[])',
  streamVersions: 'SELECT stream_id, version FROM fv_streams WHERE starts_with(stream_id, $1)',
} as const;

/** A readAll batch before decoding (see readAll). */
interface RawRead {
  batch: RawEventBatch;
  /** Checkpoint to move to past this batch's events (a filtered read that scanned up to its head). */
  skipTo?: string;
}

const EMPTY_BATCH: RawEventBatch = { count: 0, json: null };

/** The fast append functions refuse an id stored already this way (no ON CONFLICT). */
function isStoredIdConflict(e: unknown): boolean {
  const err = e as { code?: string; constraint?: string };
  return err.code === UNIQUE_VIOLATION && err.constraint === EVENT_ID_CONSTRAINT;
}

function arrayQuery(name: string, text: string, values: unknown[]): QueryArrayConfig {
  return { name, text, values, rowMode: 'array' };
}

function positiveInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

export class PostgresEventStore implements EventStore {
  private readonly catalog: EventCatalog;
  private readonly logger: Logger | undefined;
  private readonly listeners = new Set<AppendedListener>();
  private readonly readAhead: ReadAhead<RawRead> | undefined;
  private readonly combiner: AppendCombiner<PreparedAppend, AppendResult> | undefined;
  private readonly smallAppendEvents: number;

  constructor(
    private readonly pool: Pool,
    opts: PostgresEventStoreOptions = {},
  ) {
    this.catalog = opts.catalog ?? fleetEvents;
    this.logger = opts.logger;
    this.readAhead = opts.readAhead === false ? undefined : new ReadAhead<RawRead>((r) => r.batch.count);
    const g = { ...DEFAULT_GROUP_COMMIT, ...(opts.groupCommit || {}) };
    this.smallAppendEvents = g.smallAppendEvents;
    if (opts.groupCommit !== false) {
      this.combiner = new AppendCombiner<PreparedAppend, AppendResult>({
        ...g,
        sendOne: (a) => this.sendAppend(a),
        sendGroup: (as) => this.sendCombined(as),
        isTransient: (e) => {
          const code = (e as { code?: string }).code;
          return code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED;
        },
        maxGroupAttempts: MAX_APPEND_ATTEMPTS,
      });
    }
  }

  /** Group-commit counters (undefined when group commit is off). */
  get groupCommitStats(): Readonly<AppendCombinerStats> | undefined {
    return this.combiner?.stats;
  }

  async appendToStream(stream: string, events: readonly EventEnvelope[], opts: AppendOptions = {}): Promise<AppendResult> {
    const expected = opts.expectedVersion ?? 'any';
    const expectedText = encodeExpectedVersion(expected);
    const batch = encodeAppendBatch(this.catalog, stream, events);
    const prepared: PreparedAppend = { stream, expected, expectedText, json: batch.json, count: batch.count };
    return this.combiner && prepared.count < this.smallAppendEvents ? this.combiner.submit(prepared) : this.sendAppend(prepared);
  }

  /**
   * One append, one transaction, retried on an ordering race: fv_append_fast, or fv_append_to_stream
   * (the careful way) for an empty append and when the fast one met an id stored already.
   */
  private async sendAppend(a: PreparedAppend): Promise<AppendResult> {
    const { stream, expected, expectedText } = a;
    let row: unknown[] | undefined;
    let careful = a.count === 0;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.pool.query(
          careful
            ? arrayQuery('fv_append', SQL.append, [stream, expectedText, a.json])
            : arrayQuery('fv_append_fast', SQL.appendFast, [stream, expectedText, a.json, a.count]),
        );
        row = res.rows[0];
        break;
      } catch (e) {
        if (!careful && isStoredIdConflict(e)) {
          // A retried append (or an id of another stream): nothing was kept; the careful way sorts it out.
          careful = true;
          continue;
        }
        // The call ran in its own transaction and rolled back whole: retrying is safe.
        if ((e as { code?: string }).code === SERIALIZATION_FAILURE && attempt < MAX_APPEND_ATTEMPTS) {
          this.logger?.debug({ stream, attempt }, 'append raced a newer transaction id; retrying');
          continue;
        }
        throw this.translateAppendError(e, stream, expected);
      }
    }
    if (!row) throw new Error('fv_append_to_stream returned no row');
    const result: AppendResult = { nextExpectedVersion: Number(row[0]), appended: Number(row[1]) };
    if (result.appended > 0) {
      result.checkpoint = formatCheckpoint(String(row[2]), String(row[3]));
      this.notify({ stream, appended: result.appended, nextExpectedVersion: result.nextExpectedVersion, checkpoint: result.checkpoint });
    }
    return result;
  }

  /**
   * Group commit: appends to many streams in one round trip, one transaction and one commit
   * (fv_append_to_streams). Each batch gets exactly what appendToStream would do for it (the same
   * client-side validation, expected version, idempotency by event id, ordering guard), and its
   * result, in the order given. All or nothing: when one batch is refused, nothing of any batch is
   * written and the call throws the error appendToStream would throw for that batch
   * (WrongExpectedVersionError / DuplicateEventIdError naming its stream). A stream may appear
   * once per call and an event id once across all batches (ContractViolationError otherwise).
   * Streams are locked in stream-id order whatever the order given, so concurrent group commits over
   * overlapping streams do not deadlock. Listeners hear one notice per stream that got events.
   */
  async appendToStreams(batches: readonly StreamAppend[]): Promise<AppendResult[]> {
    if (!Array.isArray(batches)) throw new ContractViolationError('batches must be an array');
    if (batches.length === 0) return [];
    const streams = new Set<string>();
    const ids = new Set<string>();
    const prepared: PreparedAppend[] = new Array<PreparedAppend>(batches.length);
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      if (streams.has(b.stream)) throw new ContractViolationError(`stream "${b.stream}" appears twice in one group append; give it one batch`);
      streams.add(b.stream);
      const expected = b.expectedVersion ?? 'any';
      const expectedText = encodeExpectedVersion(expected);
      const encoded = encodeAppendBatch(this.catalog, b.stream, b.events);
      for (const ev of b.events) {
        if (ids.has(ev.id)) throw new ContractViolationError(`event id ${ev.id} appears in two batches of one group append (stream "${b.stream}")`);
        ids.add(ev.id);
      }
      prepared[i] = { stream: b.stream, expected, expectedText, json: encoded.json, count: encoded.count };
    }
    let careful = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendGroup(prepared, careful);
      } catch (e) {
        // One statement, one transaction: everything rolled back, so a retry is safe.
        const code = (e as { code?: string }).code;
        if ((code === APPEND_GROUP_SLOW_PATH_SQLSTATE || isStoredIdConflict(e)) && !careful) {
          // An id already stored, or a batch without events: the per-stream way handles those.
          careful = true;
          continue;
        }
        if ((code === SERIALIZATION_FAILURE || code === DEADLOCK_DETECTED) && attempt < MAX_APPEND_ATTEMPTS) {
          this.logger?.debug({ streams: batches.length, attempt, code }, 'group append raced another transaction; retrying');
          continue;
        }
        const failed = this.failedBatch(e, batches.length);
        if (failed === undefined) throw e;
        throw this.translateAppendError(e, prepared[failed]!.stream, prepared[failed]!.expected);
      }
    }
  }

  /**
   * A group of the combiner: fv_append_group, and when it asks for the careful path (an id stored
   * already, an empty append) the same group again through fv_append_to_streams, as appendToStreams
   * does. Splitting the group would cost a round trip and a commit per append, and ids stored
   * already are what retried reports bring, most often when the server is slowest.
   */
  private async sendCombined(appends: readonly PreparedAppend[]): Promise<AppendResult[]> {
    try {
      return await this.sendGroup(appends);
    } catch (e) {
      if ((e as { code?: string }).code !== APPEND_GROUP_SLOW_PATH_SQLSTATE && !isStoredIdConflict(e)) throw e;
      return this.sendGroup(appends, true);
    }
  }

  /**
   * Several appends in one transaction: fv_append_group (set-based; raises FVSLO for what only the
   * per-stream way handles), or with `careful` fv_append_to_streams. Raw errors.
   */
  private async sendGroup(appends: readonly PreparedAppend[], careful = false): Promise<AppendResult[]> {
    const parts: string[] = new Array<string>(appends.length);
    for (let i = 0; i < appends.length; i++) {
      const a = appends[i]!;
      parts[i] = `{"stream":${JSON.stringify(a.stream)},"expected":"${a.expectedText}","count":${a.count},"events":${a.json}}`;
    }
    const payload = `[${parts.join(',')}]`;
    const res = await this.pool.query(careful ? arrayQuery('fv_append_many', SQL.appendMany, [payload]) : arrayQuery('fv_append_group', SQL.appendGroup, [payload]));
    const rows = res.rows as unknown[][];
    if (rows.length !== appends.length) throw new Error(`fv_append_to_streams returned ${rows.length} rows for ${appends.length} batches`);
    const results: AppendResult[] = new Array<AppendResult>(appends.length);
    const notices: AppendedNotice[] = [];
    // Rows come in lock order, which is also the global order of what was written.
    for (const row of rows) {
      const i = Number(row[0]);
      const result: AppendResult = { nextExpectedVersion: Number(row[1]), appended: Number(row[2]) };
      if (result.appended > 0) {
        result.checkpoint = formatCheckpoint(String(row[3]), String(row[4]));
        notices.push({ stream: appends[i]!.stream, appended: result.appended, nextExpectedVersion: result.nextExpectedVersion, checkpoint: result.checkpoint });
      }
      results[i] = result;
    }
    for (const n of notices) this.notify(n);
    return results;
  }

  /** Index of the batch a group append failed on, from the hint fv_append_to_streams adds. */
  private failedBatch(e: unknown, count: number): number | undefined {
    const hint = (e as { hint?: string }).hint;
    if (typeof hint !== 'string' || !hint.startsWith(APPEND_MANY_HINT_PREFIX)) return undefined;
    const i = Number.parseInt(hint.slice(APPEND_MANY_HINT_PREFIX.length), 10);
    return Number.isSafeInteger(i) && i >= 0 && i < count ? i : undefined;
  }

  async readStream(stream: string, opts: { fromVersion?: number; maxCount?: number } = {}): Promise<ReadStreamResult> {
    const fromVersion = opts.fromVersion ?? 1;
    if (!Number.isSafeInteger(fromVersion) || fromVersion < 0) throw new RangeError(`fromVersion must be a non-negative integer, got ${fromVersion}`);
    const maxCount = opts.maxCount === undefined ? null : positiveInt(opts.maxCount, 'maxCount');
    // The version is read first: events appended in between only make the list longer than it,
    // and currentVersion is then corrected from the events themselves.
    const versionRes = await this.pool.query(arrayQuery('fv_stream_version', SQL.streamVersion, [stream]));
    const eventsRes = await this.pool.query(arrayQuery('fv_read_stream', SQL.readStream, [stream, fromVersion, maxCount]));
    const events = (eventsRes.rows as EventRow[]).map((r) => toRecordedEvent(this.catalog, r));
    const stored = Number(versionRes.rows[0]?.[0] ?? 0);
    const last = events.length > 0 ? events[events.length - 1]!.streamVersion : 0;
    return { events, currentVersion: Math.max(stored, last) };
  }

  async readAll(after: string, limit: number, opts: { types?: readonly string[] } = {}): Promise<ReadAllResult> {
    parseCheckpoint(after);
    positiveInt(limit, 'limit');
    const types = opts.types;
    if (!this.readAhead) return this.decodeRead(await this.readAllNow(after, limit, types), after);
    const readAhead = this.readAhead;
    const key = ReadAhead.key(after, limit, types);
    const raw = (await readAhead.take(key)) ?? (await this.readAllNow(after, limit, types));
    const prefetch = (from: string) => readAhead.start(ReadAhead.key(from, limit, types), limit, () => this.readAllNow(from, limit, types));
    // The next batch is asked for before this one is decoded: the server works while we parse.
    const guess = raw.batch.count >= limit ? lastCheckpointOf(raw.batch) : undefined;
    if (guess !== undefined) {
      prefetch(guess);
      // Let the pool hand the read to a connection and write it out before the CPU goes to decoding.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const result = this.decodeRead(raw, after);
    if (result.events.length >= limit && result.checkpoint !== guess) prefetch(result.checkpoint);
    return result;
  }

  async headCheckpoint(): Promise<string> {
    const res = await this.pool.query(arrayQuery('fv_head', SQL.head, []));
    const row = res.rows[0];
    return row ? formatCheckpoint(String(row[0]), String(row[1])) : START_CHECKPOINT;
  }

  /**
   * Checkpoint of the last committed event, even one not yet readable because an older transaction
   * is still running. "Caught up" waits for this position: it is what a caller has just appended.
   */
  async lastCommittedCheckpoint(): Promise<string> {
    const res = await this.pool.query(arrayQuery('fv_last_committed', SQL.lastCommitted, []));
    const row = res.rows[0];
    return row ? formatCheckpoint(String(row[0]), String(row[1])) : START_CHECKPOINT;
  }

  /**
   * Which of `ids` the log holds already, with the stream each is stored in (one indexed
   * statement): what an intake tells a sender that re-sent a batch.
   */
  async storedEventIds(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (ids.length === 0) return out;
    const res = await this.pool.query(arrayQuery('fv_stored_ids', SQL.storedIds, [ids]));
    for (const row of res.rows as unknown[][]) out.set(String(row[0]), String(row[1]));
    return out;
  }

  /** Current version of a stream (0 when it does not exist). */
  /** Whether the log holds an event with this id (the unique index on event_id). */
  async hasEvent(eventId: string): Promise<boolean> {
    const res = await this.pool.query('SELECT 1 FROM fv_events WHERE event_id = $1', [eventId]);
    return (res.rowCount ?? 0) > 0;
  }

  async streamVersion(stream: string): Promise<number> {
    const res = await this.pool.query(arrayQuery('fv_stream_version', SQL.streamVersion, [stream]));
    return Number(res.rows[0]?.[0] ?? 0);
  }

  /**
   * Current versions of every stream whose id starts with `prefix` (one statement): what a writer
   * holding those streams' state in memory appends at (see handleCommand's `known`).
   */
  async streamVersions(prefix: string): Promise<Map<string, number>> {
    const res = await this.pool.query(arrayQuery('fv_stream_versions', SQL.streamVersions, [prefix]));
    const out = new Map<string, number>();
    for (const row of res.rows as unknown[][]) out.set(String(row[0]), Number(row[1]));
    return out;
  }

  /**
   * Calls `listener` after every append of this store instance that wrote events (in-process only:
   * a relay or projection in the same process wakes at once instead of at its next poll). Returns
   * the unsubscribe function.
   */
  onAppended(listener: AppendedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One readAll batch as the server sent it; `skipTo`: where a reader may move when it holds nothing. */
  private async readAllNow(after: string, limit: number, types: readonly string[] | undefined): Promise<RawRead> {
    const from = parseCheckpoint(after);
    if (types === undefined) {
      const res = await this.pool.query(arrayQuery('fv_read_all', SQL.readAll, [from.transactionId.toString(), from.globalPosition.toString(), limit]));
      return { batch: rawEventBatch(res.rows[0]) };
    }
    if (types.length === 0) return { batch: EMPTY_BATCH, skipTo: await this.advanceTo(after) };
    const headCheckpoint = await this.headCheckpoint();
    if (compareCheckpoints(headCheckpoint, after) <= 0) return { batch: EMPTY_BATCH };
    const head = parseCheckpoint(headCheckpoint);
    const res = await this.pool.query(
      arrayQuery('fv_read_all_types', SQL.readAllTypes, [
        from.transactionId.toString(),
        from.globalPosition.toString(),
        head.transactionId.toString(),
        head.globalPosition.toString(),
        types,
        limit,
      ]),
    );
    const batch = rawEventBatch(res.rows[0]);
    // A short batch means every event up to the head was scanned: the caller may skip past it.
    return batch.count < limit ? { batch, skipTo: headCheckpoint } : { batch };
  }

  private decodeRead(raw: RawRead, after: string): ReadAllResult {
    const result = this.toReadAllResult(parseEventBatch(raw.batch), after);
    if (raw.skipTo !== undefined) result.checkpoint = maxCheckpoint(result.checkpoint, raw.skipTo);
    return result;
  }

  private async advanceTo(after: string): Promise<string> {
    return maxCheckpoint(after, await this.headCheckpoint());
  }

  private toReadAllResult(rows: EventRow[], after: string): ReadAllResult {
    const events: RecordedEvent[] = new Array<RecordedEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) events[i] = toRecordedEvent(this.catalog, rows[i]!);
    return { events, checkpoint: events.length > 0 ? events[events.length - 1]!.checkpoint : after };
  }

  private notify(notice: AppendedNotice): void {
    for (const listener of this.listeners) {
      try {
        listener(notice);
      } catch (e) {
        // A listener's bug must not turn a committed append into a failure for the caller.
        this.logger?.error({ err: e, stream: notice.stream }, 'onAppended listener failed');
      }
    }
  }

  private translateAppendError(e: unknown, stream: string, expected: ExpectedVersion): unknown {
    const err = e as { code?: string; detail?: string; constraint?: string; message?: string };
    if (err.code === WRONG_EXPECTED_VERSION_SQLSTATE) return new WrongExpectedVersionError(stream, expected, Number(err.detail ?? NaN));
    if (err.code === DUPLICATE_EVENT_ID_SQLSTATE) return new DuplicateEventIdError(stream, err.message ?? 'event id already stored');
    // Same id appended to two streams at the same moment: the loser hits the unique index.
    if (err.code === UNIQUE_VIOLATION && err.constraint === EVENT_ID_CONSTRAINT) {
      return new DuplicateEventIdError(stream, 'an event id of this append was stored concurrently in another stream');
    }
    return e;
  }
}
