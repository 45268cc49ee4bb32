// Host liveness in the registry service as `worker-registry run` makes it, on the shared NATS and
// Postgres: runners' scoped heartbeats, the hosts query, HostExpired / HostReturned in host-<host>,
// HostOffline heard on the bus, and the refusal of a heartbeat naming another host.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { INestMicroservice } from '@nestjs/common';
import { HostHeartbeat, HostOffline, HostsList, createSubjects, newEvent } from '@fleetvisor/contracts';
import { commandTrustOf, createFleetMicroservice, deadLetterStreamName, FleetCore } from '@fleetvisor/messaging';
import { sharedNatsUrl, createTestDatabase, expectEventually, testBusNames, testCoreConfig, testTrustConfig, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { WORKER_REGISTRY_DEFAULTS, type WorkerRegistrySettings } from './config';
import { HostLiveness } from './registry/host-liveness';
import { WorkerRegistryModule } from './worker-registry.module';

const EXPIRATION_MS = 120_000;
const SETTINGS: WorkerRegistrySettings = { ...WORKER_REGISTRY_DEFAULTS, poolSize: 4, statsLogIntervalMs: 0, hostExpirationMs: EXPIRATION_MS };

let db: TestDatabase;
const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
let core: FleetCore;
let app: INestMicroservice;
let clockOffsetMs = 0;
const clock = () => Date.now() + clockOffsetMs;

const beat = (host: string, scope = host) =>
  core.commands.request(HostHeartbeat, { host, fleetvisorVersion: '0.2.0-int', services: 2, sentAt: new Date().toISOString() }, { scope, timeoutMs: 5_000 });

async function hosts() {
  const reply = await core.commands.request(HostsList, {}, { timeoutMs: 5_000 });
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result!.hosts;
}

const typesOf = async (host: string) => (await core.store.readStream(`host-${host}`)).events.map((e) => e.type);

beforeAll(async () => {
  db = await createTestDatabase('hostlive');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  core = await FleetCore.open({
    serviceName: 'host-liveness-test',
    config: testCoreConfig(db.url, bus),
    poolSize: 4,
    commandTrust: commandTrustOf(testTrustConfig('admin', 'test-operator'), 'test', { verifies: true, signs: true }),
  });
  app = await createFleetMicroservice(
    WorkerRegistryModule.forRoot({ core: testCoreConfig(db.url, bus), registry: SETTINGS, trust: testTrustConfig('service', 'worker-registry') }, { relay: false, clock }),
    { serviceName: 'worker-registry', nest: { logger: false } },
  );
  await app.listen();
});

afterAll(async () => {
  await app?.close();
  if (core) {
    for (const s of [bus.eventStreamName, deadLetterStreamName(bus.eventStreamName)]) await core.jsm.streams.delete(s).catch(() => undefined);
    await core.close();
  }
  await db?.drop();
});

describe('worker-registry: host liveness', () => {
  it('a heartbeat makes a host online; silent past the expiration it gets one HostExpired, and its next heartbeat a HostReturned', async () => {
    expect(await beat('h-int-1')).toEqual({ ok: true, result: { host: 'h-int-1', state: 'online' } });
    expect(await hosts()).toEqual([expect.objectContaining({ host: 'h-int-1', state: 'online', version: '0.2.0-int', services: 2 })]);

    clockOffsetMs += EXPIRATION_MS + 1_000;
    const liveness = app.get(HostLiveness);
    expect(await liveness.expireSilent()).toBe(1);
    expect(await liveness.expireSilent()).toBe(0);
    expect(await typesOf('h-int-1')).toEqual(['HostExpired']);
    const [expired] = await hosts();
    expect(expired).toMatchObject({ host: 'h-int-1', state: 'expired' });

    expect(await beat('h-int-1')).toMatchObject({ ok: true, result: { state: 'online' } });
    expect(await typesOf('h-int-1')).toEqual(['HostExpired', 'HostReturned']);
    const returned = (await core.store.readStream('host-h-int-1')).events[1]!;
    expect(returned.data).toMatchObject({ host: 'h-int-1', lastSeen: expired!.lastSeen });
    expect((returned.data as { absentMs: number }).absentMs).toBeGreaterThan(EXPIRATION_MS);
  });

  it('refuses a heartbeat whose body names another host than its subject, and records nothing for it', async () => {
    const reply = await beat('h-int-2', 'h-int-1');
    expect(reply).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(reply.ok ? '' : reply.error.message).toMatch(/h-int-2.*h-int-1/);
    expect((await hosts()).map((h) => h.host)).not.toContain('h-int-2');
  });

  it('a HostOffline on the bus marks the host offline, and an offline host does not expire', async () => {
    expect(await beat('h-int-3')).toMatchObject({ ok: true });
    const offline = newEvent(HostOffline, 'h-int-3', { host: 'h-int-3', process: 'service-runner', pid: 4242, reason: 'runner shutdown' }, { host: 'h-int-3' }, { occurredAt: new Date(clock() + 1) });
    core.nc.publish(subjects.event(offline.stream, offline.type), new TextEncoder().encode(JSON.stringify(offline)));
    await expectEventually(async () => expect((await hosts()).find((h) => h.host === 'h-int-3')).toMatchObject({ state: 'offline' }));
    clockOffsetMs += EXPIRATION_MS * 2;
    await app.get(HostLiveness).expireSilent();
    expect((await hosts()).find((h) => h.host === 'h-int-3')).toMatchObject({ state: 'offline' });
    expect(await typesOf('h-int-3')).toEqual([]);
  });
});
