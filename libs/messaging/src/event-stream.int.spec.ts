// ensureEventStream against the shared JetStream: create, no-op, update, refuse bad settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, millis, StorageType, type JetStreamManager, type NatsConnection } from 'nats';
import { createSubjects } from '@fleetvisor/contracts';
import { sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { DEFAULT_DEAD_LETTER_MAX_BYTES, DEFAULT_EVENT_STREAM_MAX_BYTES, DEFAULT_EVENT_STREAM_MAX_MSG_SIZE, deadLetterStreamName, ensureEventStream } from './event-stream';

const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connect({ servers: sharedNatsUrl() });
  jsm = await nc.jetstreamManager();
});

afterAll(async () => {
  await jsm?.streams.delete(bus.eventStreamName).catch(() => undefined);
  await jsm?.streams.delete(deadLetterStreamName(bus.eventStreamName)).catch(() => undefined);
  await nc?.close();
});

describe('ensureEventStream', () => {
  const base = { name: bus.eventStreamName, subjects: subjects.allEvents(), maxAgeMs: 3_600_000, duplicateWindowMs: 120_000 };

  it('creates the event stream (file storage) and its dead-letter stream', async () => {
    const r = await ensureEventStream(jsm, base);
    expect(r.events.action).toBe('created');
    expect(r.deadLetter?.action).toBe('created');
    const ev = await jsm.streams.info(bus.eventStreamName);
    expect(ev.config.storage).toBe(StorageType.File);
    expect(ev.config.subjects).toEqual([`${bus.subjectRoot}.evt.>`]);
    expect(millis(ev.config.duplicate_window)).toBe(120_000);
    expect(millis(ev.config.max_age)).toBe(3_600_000);
    const dl = await jsm.streams.info(deadLetterStreamName(bus.eventStreamName));
    expect(dl.config.subjects).toEqual([subjects.allDeadLetters()]);
    expect(dl.config.storage).toBe(StorageType.File);
    // Bounded: a flood of publishes cannot fill the server's disk, nor one message be arbitrarily large.
    expect(ev.config.max_bytes).toBe(DEFAULT_EVENT_STREAM_MAX_BYTES);
    expect(ev.config.max_msg_size).toBe(DEFAULT_EVENT_STREAM_MAX_MSG_SIZE);
    expect(dl.config.max_bytes).toBe(DEFAULT_DEAD_LETTER_MAX_BYTES);
  });

  it('refuses a message over the size limit, and keeps taking events', async () => {
    const js = nc.jetstream();
    await expect(js.publish(subjects.event('host-h', 'HostOffline'), new Uint8Array(DEFAULT_EVENT_STREAM_MAX_MSG_SIZE + 1))).rejects.toThrow(/maximum|size/i);
    const ack = await js.publish(subjects.event('host-h', 'HostOffline'), Buffer.from('{}'));
    expect(ack.stream).toBe(bus.eventStreamName);
  });

  it('puts the limits on a stream created without them (an earlier release)', async () => {
    await jsm.streams.update(bus.eventStreamName, { ...(await jsm.streams.info(bus.eventStreamName)).config, max_bytes: -1, max_msg_size: -1 });
    const r = await ensureEventStream(jsm, base);
    expect(r.events.action).toBe('updated');
    const ev = await jsm.streams.info(bus.eventStreamName);
    expect([ev.config.max_bytes, ev.config.max_msg_size]).toEqual([DEFAULT_EVENT_STREAM_MAX_BYTES, DEFAULT_EVENT_STREAM_MAX_MSG_SIZE]);
    await jsm.streams.purge(bus.eventStreamName);
  });

  it('leaves a stream with the same configuration alone', async () => {
    const r = await ensureEventStream(jsm, base);
    expect(r.events.action).toBe('unchanged');
    expect(r.deadLetter?.action).toBe('unchanged');
  });

  it('updates max age and duplicate window when they differ, keeping the messages', async () => {
    const js = nc.jetstream();
    await js.publish(subjects.event('host-h', 'HostOffline'), Buffer.from('{}'));
    const r = await ensureEventStream(jsm, { ...base, maxAgeMs: 7_200_000, duplicateWindowMs: 300_000 });
    expect(r.events.action).toBe('updated');
    const ev = await jsm.streams.info(bus.eventStreamName);
    expect(millis(ev.config.duplicate_window)).toBe(300_000);
    expect(millis(ev.config.max_age)).toBe(7_200_000);
    expect(ev.state.messages).toBe(1);
  });

  it('refuses a duplicate window under two minutes or longer than the max age', async () => {
    await expect(ensureEventStream(jsm, { ...base, duplicateWindowMs: 60_000 })).rejects.toThrow(/>= 120000/);
    await expect(ensureEventStream(jsm, { ...base, maxAgeMs: 130_000, duplicateWindowMs: 200_000 })).rejects.toThrow(/maxAgeMs/);
  });
});
