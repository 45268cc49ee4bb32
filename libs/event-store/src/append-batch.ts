// Client-side half of an append: every event is checked against the catalog and the target stream
// before anything is sent, and the batch is encoded as the one JSON array fv_append_to_stream takes.
import { ContractViolationError, type EventCatalog, type EventEnvelope } from '@fleetvisor/contracts';

/**
 * The largest event, as JSON, the log takes. Every event is published whole as one NATS message by
 * the relay; one it could not publish would hold back every event after it. The event stream's
 * message limit (libs/messaging, DEFAULT_EVENT_STREAM_MAX_MSG_SIZE) leaves room above this one.
 */
export const MAX_EVENT_BYTES = 256 * 1024;

export interface EncodedBatch {
  /** JSON array of envelopes at their current schema version. */
  json: string;
  count: number;
}

export function encodeAppendBatch(catalog: EventCatalog, stream: string, events: readonly EventEnvelope[]): EncodedBatch {
  if (!Array.isArray(events)) throw new ContractViolationError('events must be an array');
  const valid: EventEnvelope[] = new Array<EventEnvelope>(events.length);
  const ids = new Set<string>();
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    let checked: EventEnvelope;
    try {
      checked = catalog.assert(ev);
    } catch (e) {
      if (e instanceof ContractViolationError) throw new ContractViolationError(`event #${i} of the append to "${stream}": ${e.reason}`);
      throw e;
    }
    if (checked.stream !== stream) {
      throw new ContractViolationError(`event #${i} (${checked.type} ${checked.id}) belongs to stream "${checked.stream}", not "${stream}"`);
    }
    // Two copies of one id in a batch is a caller bug, not a retry; refuse it instead of storing one.
    if (ids.has(checked.id)) throw new ContractViolationError(`event id ${checked.id} appears twice in one append to "${stream}"`);
    ids.add(checked.id);
    valid[i] = checked;
  }
  const json = JSON.stringify(valid);
  // The whole batch within the limit means every event is: only a large batch pays for a per-event look.
  if (Buffer.byteLength(json) > MAX_EVENT_BYTES) {
    for (let i = 0; i < valid.length; i++) {
      const bytes = Buffer.byteLength(JSON.stringify(valid[i]));
      if (bytes > MAX_EVENT_BYTES) {
        throw new ContractViolationError(`event #${i} (${valid[i]!.type} ${valid[i]!.id}) of the append to "${stream}" is ${bytes} bytes as JSON; an event may be at most ${MAX_EVENT_BYTES}`);
      }
    }
  }
  return { json, count: valid.length };
}
