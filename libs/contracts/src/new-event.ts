// Builds a new envelope for an event type at its current schema version.
import type { EventDefinition, EventData } from './define-event';
import type { EventEnvelope, EventMetadata } from './envelope';
import { streamName } from './subjects';
import { uuidv7 } from './uuid';

export function newEvent<D extends EventDefinition>(
  def: D,
  streamId: string,
  data: EventData<D>,
  metadata: EventMetadata = {},
  opts: { id?: string; occurredAt?: Date } = {},
): EventEnvelope<D['type'], EventData<D>> {
  return {
    id: opts.id ?? uuidv7(),
    type: def.type,
    stream: streamName(def.area, streamId),
    version: def.version,
    data,
    metadata,
    occurredAt: (opts.occurredAt ?? new Date()).toISOString(),
  };
}

/**
 * Like newEvent, for types that derive their stream from their data (`streamId`): the stream is
 * taken from the data, so it cannot disagree with it.
 */
export function newEventFor<D extends EventDefinition>(
  def: D,
  data: EventData<D>,
  metadata: EventMetadata = {},
  opts: { id?: string; occurredAt?: Date } = {},
): EventEnvelope<D['type'], EventData<D>> {
  if (!def.streamId) throw new Error(`event ${def.type} does not derive its stream from its data; use newEvent with a stream id`);
  return newEvent(def, def.streamId(data), data, metadata, opts);
}
