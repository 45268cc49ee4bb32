import { describe, expect, it } from 'vitest';
import { ContractViolationError } from '@fleetvisor/contracts';
import { encodeAppendBatch } from './append-batch';
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
