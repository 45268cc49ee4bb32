// Turns rows of fv_events into RecordedEvents: one positional row shape for every read query, cheap
// to map (rowMode 'array', no per-row objects from pg), and every event through the catalog so
// readers get it at its current schema version (upcast) or a clear error.
import type { EventCatalog, RecordedEvent } from '@fleetvisor/contracts';
import { UnreadableEventError } from './errors';

/** Column list every read selects, in the order `toRecordedEvent` expects. */
export const EVENT_COLUMNS = `e.transaction_id, e.global_position, e.event_id, e.stream_id, e.stream_version, e.type,
  e.schema_version, e.data, e.metadata,
  to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at`;

export type EventRow = [
  transactionId: string,
  globalPosition: string,
  eventId: string,
  streamId: string,
  streamVersion: string,
  type: string,
  schemaVersion: number,
  data: unknown,
  metadata: Record<string, string>,
  occurredAt: string,
];

export function toRecordedEvent(catalog: EventCatalog, row: EventRow): RecordedEvent {
  const checkpoint = `${row[0]}:${row[1]}`;
  const parsed = catalog.parse({
    id: row[2],
    type: row[5],
    stream: row[3],
    version: row[6],
    data: row[7],
    metadata: row[8],
    occurredAt: row[9],
  });
  if (!parsed.ok) throw new UnreadableEventError(checkpoint, row[1], row[2], row[3], parsed.reason);
  return { ...parsed.value, streamVersion: Number(row[4]), globalPosition: row[1], checkpoint };
}
