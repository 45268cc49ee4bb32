import { describe, expect, it } from 'vitest';
import type { NatsConnection } from 'nats';
import { createSubjects, type EventEnvelope } from '@fleetvisor/contracts';
import { createLogger, type Logger } from '@fleetvisor/platform';
import { HostLiveness, lastHostEvents, watchHostEvents } from './host-liveness';
import type { RecordedEvent } from '@fleetvisor/contracts';

const EXPIRATION_MS = 120_000;
const T0 = Date.parse('2026-12-01T00:00:00.000Z');

function setup() {
  const now = { ms: T0 };
  const appended: EventEnvelope[] = [];
  const sink = { fail: false, appendToStream: async (stream: string, events: readonly EventEnvelope[]) => {
    if (sink.fail) throw new Error('log down');
    for (const e of events) appended.push({ ...e, stream });
  } };
  const logger = createLogger({ name: 'host-liveness-test', level: 'silent', format: 'json' });
  const hosts = new HostLiveness(sink, { host: 'central', expirationMs: EXPIRATION_MS, expiryCheckIntervalMs: 1_000, clock: () => now.ms }, logger);
  const beat = (host: string, scope: string | undefined = host) =>
    hosts.heartbeat({ host, fleetvisorVersion: '0.2.0', services: 2, sentAt: new Date(now.ms).toISOString() }, scope);
  return { now, appended, sink, hosts, beat };
}

describe('HostLiveness', () => {
  it('a host first seen by heartbeat is online; silent past the expiration it expires once, and its next heartbeat returns it', async () => {
    const t = setup();
    await t.beat('h1');
    await t.beat('h2');
    expect(t.hosts.list().hosts.map((h) => [h.host, h.state])).toEqual([['h1', 'online'], ['h2', 'online']]);
    t.now.ms += EXPIRATION_MS / 2;
    await t.beat('h2');
    t.now.ms += EXPIRATION_MS / 2 + 1;
    expect(await t.hosts.expireSilent()).toBe(1);
    expect(await t.hosts.expireSilent()).toBe(0);
    expect(t.appended.map((e) => [e.type, e.stream])).toEqual([['HostExpired', 'host-h1']]);
    expect(t.appended[0]!.data).toEqual({ host: 'h1', lastSeen: '2026-12-01T00:00:00.000Z', silentMs: EXPIRATION_MS + 1 });
    const h1 = t.hosts.list().hosts.find((h) => h.host === 'h1')!;
    expect(h1).toMatchObject({ state: 'expired', lastSeen: '2026-12-01T00:00:00.000Z', since: new Date(T0 + EXPIRATION_MS + 1).toISOString(), version: '0.2.0' });
    t.now.ms += 60_000;
    expect(await t.beat('h1')).toEqual({ host: 'h1', state: 'online' });
    expect(t.appended.map((e) => e.type)).toEqual(['HostExpired', 'HostReturned']);
    expect(t.appended[1]!.data).toEqual({ host: 'h1', lastSeen: '2026-12-01T00:00:00.000Z', absentMs: EXPIRATION_MS + 60_001 });
    expect(t.hosts.list().hosts.find((h) => h.host === 'h1')!.state).toBe('online');
  });

  it('heartbeats held while a host was cut off, arriving together, record one HostReturned', async () => {
    const t = setup();
    await t.beat('h1');
    t.now.ms += EXPIRATION_MS + 1;
    expect(await t.hosts.expireSilent()).toBe(1);
    t.now.ms += 10_000;
    // The appends are slow (a loaded log): every held heartbeat arrives before the first is recorded.
    const appendNow = t.sink.appendToStream;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    t.sink.appendToStream = async (stream, events) => {
      await gate;
      return appendNow(stream, events);
    };
    const beats = [t.beat('h1'), t.beat('h1'), t.beat('h1')];
    release();
    expect(await Promise.all(beats)).toEqual(Array(3).fill({ host: 'h1', state: 'online' }));
    expect(t.appended.map((e) => e.type)).toEqual(['HostExpired', 'HostReturned']);
    await t.beat('h1');
    expect(t.appended.map((e) => e.type)).toEqual(['HostExpired', 'HostReturned']);
  });

  it('a failed HostReturned leaves the host expired for the next heartbeat to record it', async () => {
    const t = setup();
    await t.beat('h1');
    t.now.ms += EXPIRATION_MS + 1;
    await t.hosts.expireSilent();
    t.sink.fail = true;
    await expect(t.beat('h1')).rejects.toThrow('log down');
    expect(t.hosts.list().hosts[0]!.state).toBe('expired');
    t.sink.fail = false;
    await t.beat('h1');
    expect(t.appended.map((e) => e.type)).toEqual(['HostExpired', 'HostReturned']);
    expect(t.hosts.list().hosts[0]!.state).toBe('online');
  });

  it('a registry that starts knows the hosts from the log: a host that never beats again expires, an expired one returns, an offline one stays', async () => {
    const t = setup();
    await t.beat('h4');
    const restored = t.hosts.restore(
      new Map([
        ['h1', { type: 'HostOnline', atMs: T0 - 60_000 }],
        ['h2', { type: 'HostExpired', atMs: T0 - 30_000, lastSeenMs: T0 - 200_000 }],
        ['h3', { type: 'HostOffline', atMs: T0 - 10_000 }],
        // Heard by heartbeat before the log was read: the heartbeat wins.
        ['h4', { type: 'HostOffline', atMs: T0 - 5_000 }],
      ]),
    );
    expect(restored).toBe(3);
    expect(t.hosts.list().hosts.map((h) => [h.host, h.state])).toEqual([['h1', 'online'], ['h2', 'expired'], ['h3', 'offline'], ['h4', 'online']]);
    // h1 gets a whole expiration from the registry's start before it counts as silent.
    t.now.ms += EXPIRATION_MS - 1;
    await t.beat('h4');
    expect(await t.hosts.expireSilent()).toBe(0);
    t.now.ms += 2;
    expect(await t.hosts.expireSilent()).toBe(1);
    expect(t.appended.map((e) => [e.type, e.stream])).toEqual([['HostExpired', 'host-h1']]);
    await t.beat('h2');
    expect(t.appended.map((e) => [e.type, e.stream])).toEqual([['HostExpired', 'host-h1'], ['HostReturned', 'host-h2']]);
    expect(t.appended[1]!.data).toMatchObject({ host: 'h2', lastSeen: new Date(T0 - 200_000).toISOString() });
    t.now.ms += EXPIRATION_MS * 5;
    await t.beat('h4');
    await t.beat('h2');
    await t.hosts.expireSilent();
    expect(t.hosts.list().hosts.find((h) => h.host === 'h3')!.state).toBe('offline');
  });

  it('lastHostEvents keeps the last host event of each host, page after page', async () => {
    const ev = (i: number, type: string, host: string, lastSeen?: string): RecordedEvent =>
      ({ id: String(i), type, stream: `host-${host}`, data: { host, ...(lastSeen ? { lastSeen } : {}) }, occurredAt: new Date(T0 + i * 1000).toISOString(), checkpoint: `1:${i}` }) as unknown as RecordedEvent;
    const all = [ev(1, 'HostOnline', 'a'), ev(2, 'HostOnline', 'b'), ev(3, 'HostExpired', 'a', new Date(T0).toISOString()), ev(4, 'HostOffline', 'b')];
    const asked: string[] = [];
    const store = {
      readAll: async (after: string, _limit: number, opts?: { types?: readonly string[] }) => {
        asked.push(after);
        expect(opts?.types).toEqual(['HostOnline', 'HostOffline', 'HostExpired', 'HostReturned']);
        const from = after === '0:0' ? 0 : Number(after.split(':')[1]);
        return { events: all.filter((e) => Number(e.checkpoint.split(':')[1]) > from).slice(0, 2) };
      },
    };
    const last = await lastHostEvents(store, '0:0');
    expect([...last]).toEqual([
      ['a', { type: 'HostExpired', atMs: T0 + 3000, lastSeenMs: T0 }],
      ['b', { type: 'HostOffline', atMs: T0 + 4000 }],
    ]);
    expect(asked).toEqual(['0:0', '1:2', '1:4']);
  });

  it('a host that stopped cleanly (HostOffline) is offline and never expires; HostOnline makes it online again', async () => {
    const t = setup();
    await t.beat('h1');
    t.now.ms += 1_000;
    t.hosts.observe('HostOffline', 'h1', t.now.ms);
    t.now.ms += EXPIRATION_MS * 3;
    expect(await t.hosts.expireSilent()).toBe(0);
    expect(t.appended).toEqual([]);
    expect(t.hosts.list().hosts[0]).toMatchObject({ host: 'h1', state: 'offline', since: new Date(T0 + 1_000).toISOString() });
    // An older event arriving late changes nothing.
    t.hosts.observe('HostOnline', 'h1', T0);
    expect(t.hosts.list().hosts[0]!.state).toBe('offline');
    t.hosts.observe('HostOnline', 'h1', t.now.ms);
    expect(t.hosts.list().hosts[0]!.state).toBe('online');
  });

  it('a silent host that restarts (HostOnline) stays expired until its heartbeat, which records HostReturned', async () => {
    const t = setup();
    await t.beat('h1');
    t.now.ms += EXPIRATION_MS + 1;
    expect(await t.hosts.expireSilent()).toBe(1);
    t.hosts.observe('HostOnline', 'h1', t.now.ms);
    expect(t.hosts.list().hosts[0]!.state).toBe('expired');
    await t.beat('h1');
    expect(t.appended.map((e) => e.type)).toEqual(['HostExpired', 'HostReturned']);
  });

  it('refuses a heartbeat whose body names another host than its subject, and records nothing', async () => {
    const t = setup();
    await expect(t.beat('h2', 'h1')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(t.hosts.heartbeat({ host: 'h2', fleetvisorVersion: '0.2.0', services: 0, sentAt: new Date(T0).toISOString() }, undefined)).rejects.toMatchObject({ code: 'forbidden' });
    expect(t.hosts.list().hosts).toEqual([]);
  });

  it('keeps a host online when HostExpired cannot be appended, and expires it on a later check', async () => {
    const t = setup();
    await t.beat('h1');
    t.now.ms += EXPIRATION_MS + 1;
    t.sink.fail = true;
    expect(await t.hosts.expireSilent()).toBe(0);
    expect(t.hosts.list().hosts[0]!.state).toBe('online');
    t.sink.fail = false;
    expect(await t.hosts.expireSilent()).toBe(1);
    expect(t.hosts.list().hosts[0]!.state).toBe('expired');
  });
});

describe('watchHostEvents', () => {
  type Callback = (err: Error | null, msg: { subject: string; data: Uint8Array }) => void;
  const fakeNc = () => {
    let callback: Callback | undefined;
    const nc = { subscribe: (_s: string, opts: { callback: Callback }) => ((callback = opts.callback), { unsubscribe: () => undefined }) };
    return { nc: nc as unknown as NatsConnection, deliver: (err: Error | null, data = '') => callback!(err, { subject: 'fleet.evt.host.h1.HostOffline', data: new TextEncoder().encode(data) }) };
  };

  it('a refused subscription (a server whose permissions do not allow it) is said once and stops nothing; host events are observed', () => {
    const { hosts, beat } = setup();
    beat('h1');
    const warned: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => void warned.push(msg), debug: () => undefined } as unknown as Logger;
    const { nc, deliver } = fakeNc();
    watchHostEvents(nc, createSubjects('fleet'), hosts, logger);
    expect(() => deliver(Object.assign(new Error("Permissions Violation for Subscription to \"fleet.evt.host.*.*\""), { code: 'PERMISSIONS_VIOLATION' }))).not.toThrow();
    deliver(new Error('again'));
    expect(warned).toHaveLength(1);
    deliver(null, JSON.stringify({ type: 'HostOffline', occurredAt: new Date(T0).toISOString(), data: { host: 'h1' } }));
    expect(hosts.list().hosts.find((h) => h.host === 'h1')).toMatchObject({ state: 'offline' });
  });
});
