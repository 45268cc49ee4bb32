// The central event intake against the real log and bus: a host's batch is appended only when every
// event is that host's own (subject scope, body, streams, metadata, areas) and valid; a re-sent batch
// stores each event once and says which ids were new; refusals append nothing, are counted, and are
// logged with the subject and reason but no event contents. Also: FleetCoreModule's `eventIntake`
// serves it through the Nest controller.
import 'reflect-metadata';
import { Writable } from 'node:stream';
import { Module } from '@nestjs/common';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EVENT_INTAKE_MAX_EVENTS,
  EventIntakeAppend,
  HostOnline,
  ServiceStarted,
  ServiceStopped,
  VersionChanged,
  newEvent,
  newEventFor,
  type EventEnvelope,
} from '@fleetvisor/contracts';
import { createTestDatabase, deleteTestStreams, testBusNames, testCoreConfig, type TestDatabase } from '@fleetvisor/testing';
import { CommandBus } from './command-bus';
import { EventIntake, serveEventIntake } from './event-intake';
import { FleetCore } from './fleet-core';
import { createFleetMicroservice, listenOrClose } from './nest/fleet-microservice';

const HOST = 'intake-h1';
const bus = testBusNames();
let db: TestDatabase;
let core: FleetCore;
let intake: EventIntake;
const logLines: Record<string, unknown>[] = [];

const started = (host: string, service: string, meta: { host?: string } = { host }): EventEnvelope =>
  newEventFor(ServiceStarted, { host, service, pid: 4242, binaryPath: '/opt/lavap', version: '0.1.0' }, { ...meta, actor: 'service-runner' });
const stopped = (host: string, service: string): EventEnvelope => newEventFor(ServiceStopped, { host, service, reason: 'test' }, { host, actor: 'service-runner' });
const online = (host: string): EventEnvelope => newEvent(HostOnline, host, { host, process: 'service-runner', pid: 1, fleetvisorVersion: '0.1.0' }, { host });

async function send(scope: string, body: { host: string; events: unknown[] }) {
  return core.commands.request(EventIntakeAppend, body as never, { scope, timeoutMs: 5_000 });
}
const streamIds = async (stream: string) => (await core.store.readStream(stream)).events.map((e) => e.id);

beforeAll(async () => {
  db = await createTestDatabase('fvmsg_intake');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  core = await FleetCore.open({ serviceName: 'intake-int', config: testCoreConfig(db.url, bus, { host: 'central' }), logger });
  intake = new EventIntake({ store: core.store, logger });
  await serveEventIntake(core.commands, intake).ready;
});

afterAll(async () => {
  await core?.close();
  await deleteTestStreams(bus);
  await db?.drop();
});

describe('event intake', () => {
  it("appends a host's own service and host events and answers which ids were new", async () => {
    const batch = [started(HOST, 'p1'), online(HOST), stopped(HOST, 'p1')];
    const r = await send(HOST, { host: HOST, events: batch });
    expect(r).toEqual({ ok: true, result: { host: HOST, appended: batch.map((e) => e.id), alreadyStored: [] } });
    expect(await streamIds(`service-${HOST}/p1`)).toEqual([batch[0]!.id, batch[2]!.id]);
    expect(await streamIds(`host-${HOST}`)).toEqual([batch[1]!.id]);
  });

  it('is idempotent by event id: a re-sent batch stores each event once and says which were there already', async () => {
    const first = [started(HOST, 'p2'), stopped(HOST, 'p2')];
    expect((await send(HOST, { host: HOST, events: first })).ok).toBe(true);
    const later = started(HOST, 'p2');
    const again = await send(HOST, { host: HOST, events: [...first, later] });
    expect(again).toEqual({ ok: true, result: { host: HOST, appended: [later.id], alreadyStored: first.map((e) => e.id) } });
    const whole = await send(HOST, { host: HOST, events: [...first, later] });
    expect(whole).toEqual({ ok: true, result: { host: HOST, appended: [], alreadyStored: [...first, later].map((e) => e.id) } });
    expect(await streamIds(`service-${HOST}/p2`)).toEqual([...first, later].map((e) => e.id));
  });

  describe('refuses the whole batch, appends nothing, counts and logs it', () => {
    const cases: [string, () => { scope: string; body: { host: string; events: unknown[] }; bad?: EventEnvelope }, string, RegExp][] = [
      ['a body naming another host than the subject', () => ({ scope: HOST, body: { host: 'intake-h2', events: [started('intake-h2', 'p9')] } }), 'host_mismatch', /names host "intake-h2" but the subject is for "intake-h1"/],
      ['an event of another host\'s service stream', () => {
        const bad = started('intake-h2', 'p1', { host: HOST });
        return { scope: HOST, body: { host: HOST, events: [started(HOST, 'p3'), bad] }, bad };
      }, 'foreign_stream', /stream "service-intake-h2\/p1" is not one of host intake-h1's streams/],
      ['another host\'s host stream', () => {
        const bad = newEvent(HostOnline, 'intake-h2', { host: 'intake-h2', process: 'x', pid: 1, fleetvisorVersion: '1' }, { host: HOST });
        return { scope: HOST, body: { host: HOST, events: [started(HOST, 'p3'), bad] }, bad };
      }, 'foreign_stream', /stream "host-intake-h2"/],
      ['metadata naming another host', () => {
        const bad = started(HOST, 'p3', { host: 'intake-h2' });
        return { scope: HOST, body: { host: HOST, events: [started(HOST, 'p3'), bad] }, bad };
      }, 'foreign_metadata_host', /metadata.host is "intake-h2"/],
      ['an event of an area a host does not write (a forged VersionChanged)', () => {
        const bad = newEvent(VersionChanged, 'lava-x', { chainId: 'lava-x', height: 9_999_999, previous: null, current: { providerTarget: '9.9.9', providerMin: '9.9.9', consumerTarget: '9.9.9', consumerMin: '9.9.9' } }, { host: HOST });
        return { scope: HOST, body: { host: HOST, events: [started(HOST, 'p3'), bad] }, bad };
      }, 'foreign_area', /VersionChanged is not an event a host records/],
      ['an event that breaks its contract', () => {
        const bad = { ...started(HOST, 'p3'), data: { host: HOST, service: '../../etc', pid: -1, binaryPath: 'x', version: '1' } };
        return { scope: HOST, body: { host: HOST, events: [started(HOST, 'p3'), bad] }, bad };
      }, 'invalid_event', /is invalid: ServiceStarted data/],
      ['an unknown event type', () => ({ scope: HOST, body: { host: HOST, events: [started(HOST, 'p3'), { ...started(HOST, 'p3'), type: 'WorkerRemoved' }] } }), 'invalid_event', /is invalid/],
    ];

    for (const [what, make, reason, message] of cases) {
      it(what, async () => {
        const { scope, body, bad } = make();
        const before = intake.stats().refused[reason] ?? 0;
        const lines = logLines.length;
        const r = await send(scope, body);
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.error.code).toBe('forbidden');
        expect(r.error.message).toMatch(/^event batch refused, nothing appended: /);
        expect(r.error.message).toMatch(message);
        for (const e of body.events as EventEnvelope[]) expect(await core.store.storedEventIds([e.id])).toEqual(new Map());
        expect(intake.stats().refused[reason]).toBe(before + 1);
        const logged = logLines.slice(lines).find((l) => l['reason'] === reason);
        expect(logged).toMatchObject({ subject: core.subjects.scopedCommand('event-intake', 'append', scope), host: body.host, level: 40 });
        if (bad) expect(logged).toMatchObject({ eventId: bad.id, eventType: bad.type });
        // Ids and types only: never the data of an event.
        expect(JSON.stringify(logged)).not.toMatch(/4242|\/opt\/lavap|9\.9\.9|\.\.\/\.\.\/etc/);
      });
    }

    it('an id the log holds in another stream (someone else\'s event replayed) is refused as a conflict', async () => {
      const mine = started(HOST, 'p4');
      expect((await send(HOST, { host: HOST, events: [mine] })).ok).toBe(true);
      const replay = { ...stopped(HOST, 'p5'), id: mine.id };
      const r = await send(HOST, { host: HOST, events: [replay] });
      expect(r).toMatchObject({ ok: false, error: { code: 'conflict' } });
      expect(await streamIds(`service-${HOST}/p5`)).toEqual([]);
    });

    it('more events than one request may carry, or more bytes', async () => {
      const many = Array.from({ length: EVENT_INTAKE_MAX_EVENTS + 1 }, () => stopped(HOST, 'p6'));
      expect(await send(HOST, { host: HOST, events: many })).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      // Under the count bound but over the byte bound: each event valid, at its fields' longest.
      const long = { host: HOST, correlationId: 'c'.repeat(200), causationId: 'c'.repeat(200), actor: 'a'.repeat(200) };
      const fat = Array.from({ length: EVENT_INTAKE_MAX_EVENTS }, () => newEventFor(ServiceStopped, { host: HOST, service: 'p6', reason: 'r'.repeat(2000) }, long));
      const r = await send(HOST, { host: HOST, events: fat });
      expect(r).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
      if (!r.ok) expect(r.error.message).toMatch(/bytes, more than 262144 in one request/);
      expect(await streamIds(`service-${HOST}/p6`)).toEqual([]);
    });
  });

  it('FleetCoreModule({ eventIntake: true }) serves it through its controller on the scoped subject', async () => {
    @Module({})
    class CentralModule {}
    const app = await createFleetMicroservice(CentralModule, {
      core: { serviceName: 'intake-nest', config: testCoreConfig(db.url, bus, { host: 'central-2' }), logger: pino({ level: 'silent' }), eventIntake: true },
      nest: { logger: false },
    });
    await listenOrClose(app);
    // Stop this file's plain server, so only the Nest one can answer.
    await core.commands.close();
    const client = new CommandBus({ nc: core.nc, subjects: core.subjects, logger: pino({ level: 'silent' }) });
    try {
      const e = started(HOST, 'p7');
      expect(await client.request(EventIntakeAppend, { host: HOST, events: [e] }, { scope: HOST })).toEqual({ ok: true, result: { host: HOST, appended: [e.id], alreadyStored: [] } });
      expect(await client.request(EventIntakeAppend, { host: 'intake-h2', events: [started('intake-h2', 'p7')] }, { scope: HOST })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(await streamIds(`service-${HOST}/p7`)).toEqual([e.id]);
    } finally {
      await app.close();
    }
  });
});
