// Turns rows of fv_events into RecordedEvents: one positional row shape for every read query, cheap
// to map (rowMode 'array', no per-row objects from pg), and every event through the catalog so
// readers get it at its current schema version (upcast) or a clear error. Rows at the current
// version are not validated again: every append was (catalog.fromLog).
import type { EventCatalog, RecordedEvent } from '@fleetvisor/contracts';
import { UnreadableEventError } from './errors';

/**
 * occurred_at as whole microseconds since 1970 (a double from date_part, exact to the microsecond
 * until the 22nd century: its error stays below half a microsecond), formatted by the reader.
 * to_char cost the server three times as much per row, and the value does not depend on the
 * session's TimeZone or DateStyle.
 */
const occurredAtMicros = (alias: string): string => `(date_part('epoch', ${alias}.occurred_at) * 1000000)::bigint`;

/** Column list every read selects, in the order `toRecordedEvent` expects. */
// The casts pick pg's cheapest parsers: text comes through as is, int4 is parseInt and float8
// parseFloat, while int8 would go through a regular expression per value.
export const EVENT_COLUMNS = `e.transaction_id::text, e.global_position::text, e.event_id, e.stream_id, e.stream_version::integer,
  e.type, e.schema_version, e.data, e.metadata, ${occurredAtMicros('e')}::float8 AS occurred_at_us`;

/**
 * A whole readAll batch as ONE text value: the EventRow arrays of a JSON array, comma-separated,
 * without the array's brackets (the reader adds them), built by the server (`rows` is a subquery
 * selecting `e.*` of fv_events in log order). Decoding a batch is then one JSON.parse instead of
 * ten field decodes and two JSON.parse calls per row in the driver, which was most of a catch-up
 * reader's CPU. data and metadata are stored as json text, so the server copies them in, and
 * stream ids and types cannot hold a character JSON escapes (constraint fv_events_names_json_safe),
 * so they are copied in too.
 *
 * The server's share of a catch-up read is mostly this text: wrapping it in brackets on the server
 * copied the whole batch twice more (two concatenations of the batch text), and to_char per row
 * cost three times the microseconds the reader now formats itself; both together were a quarter of
 * the server's time per batch (docs/benchmarks.md, "Event store").
 *
 * The aggregate takes the rows in the order the subquery returns them (Postgres feeds an aggregate
 * from a sorted subquery in that order; an ORDER BY inside string_agg would sort the batch a second
 * time, a third of the query's cost). parseEventBatch checks the order anyway and sorts if needed.
 */
export function eventBatchSelect(rows: string): string {
  return `SELECT count(*)::integer, string_agg(
      '["' || x.transaction_id::text || '","' || x.global_position::text || '","' || x.event_id::text || '","'
        || x.stream_id || '",' || x.stream_version::text || ',"' || x.type || '",'
        || x.schema_version::text || ',' || x.data::text || ',' || x.metadata::text || ','
        || ${occurredAtMicros('x')}::text || ']',
      ',')
    FROM (${rows}) x`;
}

/** Compares two decimal strings of unsigned integers (xid8, bigint) without converting them. */
function compareDecimal(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** Log order: (transaction id, global position), both decimal strings. */
export function compareRowPositions(a: EventRow, b: EventRow): number {
  return compareDecimal(a[0], b[0]) || compareDecimal(a[1], b[1]);
}

/** What eventBatchSelect returns, not decoded yet. */
export interface RawEventBatch {
  count: number;
  /** The EventRows of a JSON array, comma-separated, without the brackets (null when count is 0). */
  json: string | null;
}

export function rawEventBatch(row: readonly unknown[] | undefined): RawEventBatch {
  return row ? { count: Number(row[0]), json: (row[1] as string | null) ?? null } : { count: 0, json: null };
}

const LAST_ROW_START = /^\["(\d+)","(\d+)","[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",/;

/**
 * The checkpoint of a batch's last event, read off the end of its JSON text without decoding the
 * batch (so the next read can be sent first). A guess: a payload could hold text that looks like
 * the start of a row; callers only use it to start a read-ahead, which is served only if it was
 * for the checkpoint decoding finds.
 */
export function lastCheckpointOf(batch: RawEventBatch): string | undefined {
  const text = batch.json;
  if (!text) return undefined;
  for (let at = text.lastIndexOf('["'); at >= 0; at = at > 0 ? text.lastIndexOf('["', at - 1) : -1) {
    const m = LAST_ROW_START.exec(text.slice(at, at + 80));
    if (m) return `${m[1]}:${m[2]}`;
  }
  return undefined;
}

/** Decodes a raw batch into EventRows, in log order. */
export function parseEventBatch(batch: RawEventBatch): EventRow[] {
  if (batch.count === 0 || !batch.json) return [];
  const rows = JSON.parse(`[${batch.json}]`) as EventRow[];
  for (let i = 1; i < rows.length; i++) {
    if (compareRowPositions(rows[i - 1]!, rows[i]!) >= 0) return rows.sort(compareRowPositions);
  }
  return rows;
}

export type EventRow = [
  transactionId: string,
  globalPosition: string,
  eventId: string,
  streamId: string,
  streamVersion: number,
  type: string,
  schemaVersion: number,
  data: unknown,
  metadata: Record<string, string>,
  /** occurred_at in whole microseconds since 1970 (see occurredAtMicros). */
  occurredAtMicros: number,
];

let cachedMinute = NaN;
let cachedPrefix = '';

/**
 * ISO 8601 in UTC with milliseconds, as the envelope's occurredAt has always been read back
 * (sub-millisecond digits are cut, not rounded): what `new Date(ms).toISOString()` gives, in a
 * tenth of its time (~40 against ~480 ns, a tenth of a catch-up reader's CPU per event). The
 * "YYYY-MM-DDTHH:mm:" part is formatted once per minute; seconds and milliseconds are added.
 */
export function occurredAtIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const minute = Math.floor(ms / 60_000);
  if (minute !== cachedMinute) {
    // Everything but "ss.sssZ" (also right for the extended years toISOString writes as ±YYYYYY).
    cachedPrefix = new Date(minute * 60_000).toISOString().slice(0, -7);
    cachedMinute = minute;
  }
  const inMinute = ms - minute * 60_000;
  const seconds = Math.floor(inMinute / 1000);
  const millis = inMinute - seconds * 1000;
  return `${cachedPrefix}${seconds < 10 ? '0' : ''}${seconds}.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

export function toRecordedEvent(catalog: EventCatalog, row: EventRow): RecordedEvent {
  const checkpoint = `${row[0]}:${row[1]}`;
  const parsed = catalog.fromLog({
    id: row[2],
    type: row[5],
    stream: row[3],
    version: row[6],
    data: row[7],
    metadata: row[8],
    occurredAt: occurredAtIso(row[9]),
  });
  if (!parsed.ok) throw new UnreadableEventError(checkpoint, row[1], row[2], row[3], parsed.reason);
  // The parsed envelope is a fresh object of ours (built above, or its upcast copy): completing it
  // in place is less than half the cost of spreading it into a new one, at 10,000 events a batch.
  const recorded = parsed.value as RecordedEvent;
  recorded.streamVersion = row[4];
  recorded.globalPosition = row[1];
  recorded.checkpoint = checkpoint;
  return recorded;
}
