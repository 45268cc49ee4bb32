// Where a host without database credentials reads its chain's newest VersionChanged, against the
// real JetStream: the last message per subject of the event stream (read by subject, nothing
// durable left behind), and the chain-watcher's version-event query when the stream holds none.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainVersionEvent, createSubjects, newEvent, VersionChanged, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { deleteTestStreams, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import type { NatsConnection } from 'nats';
import { latestVersionEvent, versionEventFromStream } from './version-source';

const silent = pino({ level: 'silent' });
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
let nc: NatsConnection;
let commands: CommandBus;

async function publish(e: EventEnvelope): Promise<void> {
  await nc.jetstream().publish(subjects.event(e.stream, e.type), Buffer.from(JSON.stringify(e)), { msgID: e.id });
}
const changed = (chain: string, height: number, v: string) => newEvent(VersionChanged, chain, { chainId: chain, height, previous: null, current: pv(v) });

beforeAll(async () => {
  nc = await connectNats({ natsUrl: sharedNatsUrl() }, silent);
  commands = new CommandBus({ nc, subjects, logger: silent });
  await (await nc.jetstreamManager()).streams.add({ name: bus.eventStreamName, subjects: [subjects.allEvents()] });
});

afterAll(async () => {
  await commands?.close();
  await nc?.close();
  await deleteTestStreams(bus);
});

describe('version source', () => {
  it('reads the last VersionChanged of the chain from the stream (not the first, not another chain\'s) and leaves no consumer behind', async () => {
    const a = [changed('lava-a', 1, '0.1.0'), changed('lava-a', 2, '0.2.0'), changed('lava-a', 3, '0.3.0')];
    for (const e of [a[0]!, a[1]!, changed('lava-b', 9, '9.0.0'), a[2]!, changed('lava-b', 10, '9.1.0')]) await publish(e);
    const stream = { js: nc.jetstream(), subjects, eventStreamName: bus.eventStreamName };
    expect(await versionEventFromStream(stream, 'lava-a')).toEqual(a[2]);
    expect(await versionEventFromStream(stream, 'lava-none')).toBeUndefined();
    expect(await versionEventFromStream({ ...stream, eventStreamName: 'NO_SUCH_STREAM_X' }, 'lava-a')).toBeUndefined();
    const consumers = await (await nc.jetstreamManager()).consumers.list(bus.eventStreamName).next();
    expect(consumers).toEqual([]);
  });

  it('asks the chain-watcher when the stream holds none, and says when nobody answers', async () => {
    const stored = changed('lava-c', 5, '0.5.0');
    const server = commands.serve(ChainVersionEvent, async (req) => (req.chainId === 'lava-c' ? { chainId: req.chainId, event: stored } : { chainId: req.chainId }));
    await server.ready;
    const src = { js: nc.jetstream(), subjects, commands, eventStreamName: bus.eventStreamName };
    expect(await latestVersionEvent(src, 'lava-c')).toEqual({ event: stored, via: 'chain-watcher' });
    expect(await latestVersionEvent(src, 'lava-d')).toBeUndefined();
    // The stream comes first when it holds one.
    expect(await latestVersionEvent(src, 'lava-a')).toMatchObject({ via: 'stream', event: { data: { height: 3 } } });
    await server.stop();
    await expect(latestVersionEvent(src, 'lava-c')).rejects.toThrow(/no chain-watcher answered chain-watcher.version-event/);
  });
});
