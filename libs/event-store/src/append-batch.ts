// Client-side half of an append: every event is checked against the catalog and the target stream
// before anything is sent, and the batch is encoded as the one JSON array fv_append_to_stream takes.
import { ContractViolationError, type EventCatalog, type EventEnvelope } from '@fleetvisor/contracts';

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
  return { json: JSON.stringify(valid), count: valid.length };
}
