// Event types for the event store's own tests: a catalog that stays fixed while the product
// catalog (fleetEvents) grows, including a type with an upcaster (Counted v1 -> v2).
import { Type } from '@sinclair/typebox';
import { EventCatalog, defineEvent, uuidv7, type EventEnvelope } from '@fleetvisor/contracts';

export const Pinged = defineEvent({
  type: 'Pinged',
  area: 'host',
  description: 'test: a ping with a sequence number',
  schema: Type.Object({ n: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
});

export const Noted = defineEvent({
  type: 'Noted',
  area: 'system',
  description: 'test: a free-text note',
  schema: Type.Object({ text: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
});

/** v1 was `{ count }`; v2 adds the unit. */
export const Counted = defineEvent({
  type: 'Counted',
  area: 'worker',
  version: 2,
  description: 'test: a count with a unit',
  schema: Type.Object({ count: Type.Integer(), unit: Type.String() }, { additionalProperties: false }),
  upcasters: { 1: (data: unknown) => ({ ...(data as { count: number }), unit: 'events' }) },
});

export const testCatalog = new EventCatalog([Pinged, Noted, Counted]);

export function pinged(stream: string, n: number, id: string = uuidv7()): EventEnvelope {
  return { id, type: 'Pinged', stream, version: 1, data: { n }, metadata: {}, occurredAt: new Date().toISOString() };
}

export function noted(stream: string, text: string, id: string = uuidv7()): EventEnvelope {
  return { id, type: 'Noted', stream, version: 1, data: { text }, metadata: {}, occurredAt: new Date().toISOString() };
}

export function pings(stream: string, count: number, from = 1): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) => pinged(stream, from + i));
}
