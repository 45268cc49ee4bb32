import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { ContractViolationError, defineEvent, EventCatalog, uuidv7, type EventEnvelope } from '@fleetvisor/contracts';
import { encodeAppendBatch, MAX_EVENT_BYTES } from './append-batch';
import { noted, pinged, testCatalog } from '../test/test-events';

describe('encodeAppendBatch', () => {
  it('encodes valid events as one JSON array', () => {
    const events = [pinged('host-a', 1), pinged('host-a', 2)];
    const batch = encodeAppendBatch(testCatalog, 'host-a', events);
    expect(batch.count).toBe(2);
    expect(JSON.parse(batch.json)).toEqual(events);
  });

  it('stores events at their current schema version (upcast before writing)', () => {
    const v1 = { ...pinged('worker-w1', 0), type: 'Counted', stream: 'worker-w1', version: 1, data: { count: 4 } };
    const [stored] = JSON.parse(encodeAppendBatch(testCatalog, 'worker-w1', [v1]).json) as { version: number; data: unknown }[];
    expect(stored).toMatchObject({ version: 2, data: { count: 4, unit: 'events' } });
  });

  it('rejects invalid data, naming the event', () => {
    const bad = { ...pinged('host-a', 1), data: { n: -1 } };
    expect(() => encodeAppendBatch(testCatalog, 'host-a', [pinged('host-a', 1), bad])).toThrow(ContractViolationError);
    expect(() => encodeAppendBatch(testCatalog, 'host-a', [pinged('host-a', 1), bad])).toThrow(/event #1 of the append to "host-a": Pinged data at \/n/);
  });

  it('rejects unknown types and malformed envelopes', () => {
    expect(() => encodeAppendBatch(testCatalog, 'host-a', [{ ...pinged('host-a', 1), type: 'Nope' }])).toThrow(/unknown event type "Nope"/);
    expect(() => encodeAppendBatch(testCatalog, 'host-a', [{ ...pinged('host-a', 1), id: 'not-a-uuid' }])).toThrow(/envelope at \/id/);
  });

  it('rejects an event whose stream is not the stream appended to', () => {
    expect(() => encodeAppendBatch(testCatalog, 'host-a', [pinged('host-b', 1)])).toThrow(/belongs to stream "host-b", not "host-a"/);
    expect(() => encodeAppendBatch(testCatalog, 'system-x', [noted('system-y', 'hi')])).toThrow(ContractViolationError);
  });

  it('rejects the same event id twice in one append', () => {
    const e = pinged('host-a', 1);
    expect(() => encodeAppendBatch(testCatalog, 'host-a', [e, { ...e }])).toThrow(/appears twice/);
  });
});

describe('encodeAppendBatch, event size', () => {
  const Blob = defineEvent({
    type: 'Blob',
    area: 'system',
    description: 'test: a large payload',
    schema: Type.Object({ text: Type.String({ maxLength: 2_000_000 }) }, { additionalProperties: false }),
  });
  const catalog = new EventCatalog([Blob]);
  const blob = (chars: number): EventEnvelope => ({ id: uuidv7(), type: 'Blob', stream: 'system-x', version: 1, data: { text: 'x'.repeat(chars) }, metadata: {}, occurredAt: new Date().toISOString() });

  it('refuses an event larger than the relay can publish, naming it, its size and the limit', () => {
    const big = blob(MAX_EVENT_BYTES);
    expect(() => encodeAppendBatch(catalog, 'system-x', [blob(10), big])).toThrow(new RegExp(`event #1 \\(Blob ${big.id}\\) of the append to "system-x" is \\d+ bytes as JSON; an event may be at most ${MAX_EVENT_BYTES}`));
  });

  it('takes events up to the limit, also when together they are larger', () => {
    const events = [blob(MAX_EVENT_BYTES - 1_000), blob(MAX_EVENT_BYTES - 1_000)];
    expect(encodeAppendBatch(catalog, 'system-x', events).count).toBe(2);
  });
});
