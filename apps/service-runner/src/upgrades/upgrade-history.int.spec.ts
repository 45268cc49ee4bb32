// `upgrades show` reads a service's history from the event stream (a host holds no database
// credentials): a real JetStream on a private nats-server, events published as the relay does.
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, newEvent, ServiceStarted, ServiceUpgraded, UpgradeStarted, type EventEnvelope } from '@fleetvisor/contracts';
import { startPrivateNats, type PrivateNats } from '@fleetvisor/testing';
import { streamHistorySource } from './upgrade-history';

const subjects = createSubjects('fvt');
const STREAM = 'FVT_HISTORY';
let nats: PrivateNats;
let nc: NatsConnection;

const ids = (service: string) => ({ host: 'h1', service });
const started = newEvent(UpgradeStarted, 'h1/p1', { ...ids('p1'), fromVersion: '0.1.0', toVersion: '0.2.0', reason: 'provider_target 0.2.0' });
const running = newEvent(ServiceStarted, 'h1/p1', { ...ids('p1'), pid: 42, version: '0.2.0', binaryPath: '/h/.fleetvisor/upgrades/v0.2.0/lavap' });
const upgraded = newEvent(ServiceUpgraded, 'h1/p1', { ...ids('p1'), fromVersion: '0.1.0', toVersion: '0.2.0', durationMs: 900 });
const otherService = newEvent(UpgradeStarted, 'h1/p10', { ...ids('p10'), fromVersion: '0.1.0', toVersion: '0.2.0', reason: 'x' });

beforeAll(async () => {
  nats = await startPrivateNats();
  nc = await connect({ servers: nats.url });
  await (await nc.jetstreamManager()).streams.add({ name: STREAM, subjects: [subjects.allEvents()] });
  const js = nc.jetstream();
  for (const e of [started, running, otherService, upgraded] as EventEnvelope[]) await js.publish(subjects.event(e.stream, e.type), JSON.stringify(e), { msgID: e.id });
}, 60_000);

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe('the event stream as the source of upgrades show', () => {
  it("gives the service's events of the asked types, in stream order, and makes no consumer (a runner may make none but its durable)", async () => {
    const source = streamHistorySource({ js: nc.jetstream(), subjects, eventStreamName: STREAM });
    const got = await source.events('service-h1/p1', ['UpgradeStarted', 'ServiceUpgraded']);
    expect(got.map((e) => e.id)).toEqual([started.id, upgraded.id]);
    expect((await (await nc.jetstreamManager()).streams.info(STREAM)).state.consumer_count).toBe(0);
  });

  it('gives nothing for a service the stream holds nothing of', async () => {
    const source = streamHistorySource({ js: nc.jetstream(), subjects, eventStreamName: STREAM });
    expect(await source.events('service-h2/p1', ['UpgradeStarted'])).toEqual([]);
  });
});
