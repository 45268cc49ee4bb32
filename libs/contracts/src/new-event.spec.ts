import { describe, expect, it } from 'vitest';
import { fleetEvents, HostOffline, HostOnline, ThreadPaused, VersionChanged } from './events';
import { EVENT_EXAMPLES } from './events/examples';
import { newEvent, newEventFor } from './new-event';
import { UUID_PATTERN } from './uuid';

describe('newEvent', () => {
  it('builds a valid envelope at the type\'s current version', () => {
    const before = Date.now();
    const e = newEvent(VersionChanged, 'lava-testnet-2', EVENT_EXAMPLES.VersionChanged);
    expect(e).toEqual({
      id: expect.stringMatching(new RegExp(UUID_PATTERN)),
      type: 'VersionChanged',
      stream: 'chain-lava-testnet-2',
      version: 1,
      data: EVENT_EXAMPLES.VersionChanged,
      metadata: {},
      occurredAt: expect.any(String),
    });
    expect(Date.parse(e.occurredAt)).toBeGreaterThanOrEqual(before);
    expect(e.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(fleetEvents.parse(e)).toEqual({ ok: true, value: e });
  });

  it('uses the given metadata, id and time', () => {
    const e = newEvent(
      HostOffline,
      'host-01',
      EVENT_EXAMPLES.HostOffline,
      { actor: 'alice', correlationId: 'op-1' },
      { id: '01946a2b-3c00-7000-8000-0000000000aa', occurredAt: new Date('2025-02-01T00:00:00Z') },
    );
    expect(e.id).toBe('01946a2b-3c00-7000-8000-0000000000aa');
    expect(e.occurredAt).toBe('2025-02-01T00:00:00.000Z');
    expect(e.metadata).toEqual({ actor: 'alice', correlationId: 'op-1' });
  });

  it('writes the current version (HostOnline 2)', () => {
    expect(newEvent(HostOnline, 'host-01', EVENT_EXAMPLES.HostOnline).version).toBe(2);
  });

  it('gives time-ordered, unique ids', () => {
    const ids = Array.from({ length: 200 }, () => newEvent(HostOffline, 'h', EVENT_EXAMPLES.HostOffline).id);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('newEventFor', () => {
  it('takes the stream from the data', () => {
    const e = newEventFor(ThreadPaused, { worker: 'w-07', index: 2, reason: 'manual', actor: 'bob' });
    expect(e.stream).toBe('worker-w-07');
    expect(fleetEvents.parse(e).ok).toBe(true);
  });

  it('refuses types that do not derive their stream', () => {
    expect(() => newEventFor(HostOnline, EVENT_EXAMPLES.HostOnline)).toThrow(/use newEvent with a stream id/);
  });
});
