import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { EventCatalog } from './catalog';
import { defineEvent, isEventDefinition, streamOf, type EventDefinition } from './define-event';
import { fleetEvents, HostOnline, HostOnlineV1Schema, VersionChanged } from './events';
import { exampleEnvelope, EVENT_EXAMPLES, PREVIOUS_EVENT_EXAMPLES } from './events/examples';

const v1 = (data: Record<string, unknown> = {}) => ({
  ...exampleEnvelope('HostOnline', 1),
  data: { ...(PREVIOUS_EVENT_EXAMPLES.HostOnline![1] as object), ...data },
});

describe('upcasting: HostOnline v1 -> v2 (the real case)', () => {
  it('HostOnline is at version 2 and keeps its v1 schema', () => {
    expect(HostOnline.version).toBe(2);
    expect(HostOnline.previousSchemas?.[1]).toBe(HostOnlineV1Schema);
  });

  it('reading a v1 envelope returns a v2 one, everything else unchanged', () => {
    const env = v1();
    const r = fleetEvents.parse(env);
    expect(r).toEqual({ ok: true, value: { ...env, version: 2, data: env.data } });
  });

  it('bounds fleetvisorVersion: a long one is cut to 100 characters, an empty one becomes "unknown"', () => {
    const long = fleetEvents.assert(v1({ fleetvisorVersion: 'x'.repeat(5000) }));
    expect(long.version).toBe(2);
    expect((long.data as { fleetvisorVersion: string }).fleetvisorVersion).toBe('x'.repeat(100));
    const empty = fleetEvents.assert(v1({ fleetvisorVersion: '' }));
    expect((empty.data as { fleetvisorVersion: string }).fleetvisorVersion).toBe('unknown');
  });

  it('does not modify the envelope it read', () => {
    const env = v1({ fleetvisorVersion: '' });
    fleetEvents.assert(env);
    expect(env.version).toBe(1);
    expect(env.data.fleetvisorVersion).toBe('');
  });

  it('checks v1 data against the v1 schema first, naming the field', () => {
    const r = fleetEvents.parse(v1({ pid: 0 }));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/^HostOnline v1 data at \/pid:/) });
    expect(fleetEvents.parse(v1({ startedAt: '2025-01-01T00:00:00Z' }))).toEqual({ ok: false, reason: 'HostOnline v1 data at /startedAt: Unexpected property' });
  });

  it('v2 itself refuses an empty or over-long fleetvisorVersion', () => {
    const env = { ...exampleEnvelope('HostOnline'), data: { ...EVENT_EXAMPLES.HostOnline, fleetvisorVersion: '' } };
    expect(fleetEvents.parse(env)).toEqual({ ok: false, reason: expect.stringMatching(/^HostOnline data at \/fleetvisorVersion:/) });
  });

  it('refuses a version newer than it knows', () => {
    const r = fleetEvents.parse({ ...exampleEnvelope('HostOnline'), version: 3 });
    expect(r).toEqual({ ok: false, reason: 'HostOnline version 3 is newer than this build knows (2)' });
  });
});

describe('upcasting: the mechanism', () => {
  // A type that went through two versions: v2 added `startedAt` (derived from the envelope's
  // occurredAt), v3 renamed `name` to `label`.
  const Evolving = defineEvent({
    type: 'Evolving',
    area: 'system',
    version: 3,
    description: 'test',
    schema: Type.Object({ label: Type.String({ maxLength: 10 }), startedAt: Type.String() }, { additionalProperties: false }),
    previousSchemas: { 1: Type.Object({ name: Type.String() }, { additionalProperties: false }) },
    upcasters: {
      1: (data, env) => ({ ...(data as object), startedAt: env.occurredAt }),
      2: (data) => {
        const { name, ...rest } = data as { name: string; startedAt: string };
        return { ...rest, label: name };
      },
    },
  });
  const catalog = new EventCatalog([Evolving]);
  const env = (version: number, data: unknown) => ({
    id: '01946a2b-3c00-7000-8000-000000000001',
    type: 'Evolving',
    stream: 'system-test',
    version,
    data,
    metadata: {},
    occurredAt: '2025-01-15T08:00:00.000Z',
  });

  it('chains upcasters v1 -> v2 -> v3, and an upcaster can use the envelope', () => {
    expect(catalog.assert(env(1, { name: 'a' })).data).toEqual({ label: 'a', startedAt: '2025-01-15T08:00:00.000Z' });
    expect(catalog.assert(env(2, { name: 'b', startedAt: 'then' })).data).toEqual({ label: 'b', startedAt: 'then' });
    expect(catalog.assert(env(3, { label: 'c', startedAt: 'now' })).version).toBe(3);
  });

  it('refuses what an upcaster turns into invalid data, and reports an upcaster that throws', () => {
    expect(catalog.parse(env(1, { name: 'far too long a name' }))).toEqual({ ok: false, reason: expect.stringMatching(/^Evolving data at \/label:/) });
    const Throwing = defineEvent({
      type: 'Throwing',
      area: 'system',
      version: 2,
      description: 'test',
      schema: Type.Object({}),
      upcasters: {
        1: () => {
          throw new Error('cannot');
        },
      },
    });
    const r = new EventCatalog([Throwing]).parse({ ...env(1, {}), type: 'Throwing' });
    expect(r).toEqual({ ok: false, reason: 'Throwing upcast from version 1 failed: cannot' });
  });

  it('a version without a schema of its own is upcast without a prior check', () => {
    expect(catalog.parse(env(2, { name: 'x', startedAt: 't' })).ok).toBe(true);
  });
});

describe('defineEvent', () => {
  const base = { type: 'Sample', area: 'system' as const, description: 'test', schema: Type.Object({}) };

  it('refuses a version without an upcaster for every step', () => {
    expect(() => defineEvent({ ...base, version: 2 })).toThrow('event Sample: version 2 needs an upcaster from 1 to 2');
    expect(() => defineEvent({ ...base, version: 3, upcasters: { 1: (d) => d } })).toThrow('event Sample: version 3 needs an upcaster from 2 to 3');
  });

  it('refuses a bad type name, version, area, previous schema or stream pattern', () => {
    expect(() => defineEvent({ ...base, type: 'sample' })).toThrow(/must match/);
    expect(() => defineEvent({ ...base, version: 0 })).toThrow(/integer >= 1/);
    expect(() => defineEvent({ ...base, area: 'nowhere' as never })).toThrow(/unknown area/);
    expect(() => defineEvent({ ...base, previousSchemas: { 1: Type.Object({}) } })).toThrow(/previousSchemas\[1\] is not an earlier version/);
    expect(() => defineEvent({ ...base, streamPattern: 'chain-<id>' })).toThrow(/must start with "system-"/);
  });

  it('returns a frozen definition at version 1 by default', () => {
    const d = defineEvent(base);
    expect(d.version).toBe(1);
    expect(Object.isFrozen(d)).toBe(true);
    expect(Object.isFrozen(d.upcasters)).toBe(true);
  });

  it('isEventDefinition tells definitions from other exports', () => {
    expect(isEventDefinition(VersionChanged)).toBe(true);
    expect(isEventDefinition(HostOnlineV1Schema)).toBe(false);
    expect(isEventDefinition(null)).toBe(false);
    expect(isEventDefinition('VersionChanged')).toBe(false);
  });

  it('streamOf derives the stream from the data, where the type can', () => {
    expect(streamOf(VersionChanged, EVENT_EXAMPLES.VersionChanged)).toBe('chain-lava-testnet-2');
    expect(() => streamOf(HostOnline as EventDefinition, EVENT_EXAMPLES.HostOnline)).toThrow(/does not derive its stream/);
  });
});
