// EventConsumer against the shared JetStream: malformed messages dead-lettered (logged once) while
// the consumer keeps going, handler errors redelivered with backoff, poison events dead-lettered
// after maxDeliver, idempotency by event id, client-side multi-filtering, draining stop, and a
// NATS crash/restart under a running consumer.
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { connect, type JetStreamClient, type JetStreamManager, type NatsConnection, type StoredMsg } from 'nats';
import { createSubjects, HostOffline, newEvent, type EventEnvelope } from '@fleetvisor/contracts';
import { expectEventually, sharedNatsUrl, startPrivateNats, testBusNames, type PrivateNats } from '@fleetvisor/testing';
import { connectNats } from './nats-connection';
import { deadLetterStreamName, ensureEventStream } from './event-stream';
import { DeadLetterHeaders } from './dead-letter';
import { EventConsumer, type EventConsumerOptions, type EventContext } from './event-consumer';
import type { IdempotencyGuard } from './idempotency';

const bus = testBusNames();
const subjects = createSubjects(bus.subjectRoot);
const dlqStream = deadLetterStreamName(bus.eventStreamName);

/** A logger whose JSON lines the test can read back. */
function capturingLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, dest);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function offline(host: string, i = 0): EventEnvelope {
  return newEvent(HostOffline, host, { host, process: 'consumer-test', pid: i + 1, reason: `r${i}` });
}

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const consumers: EventConsumer[] = [];

beforeAll(async () => {
  nc = await connect({ servers: sharedNatsUrl() });
  js = nc.jetstream();
  jsm = await nc.jetstreamManager();
  // Small limits: JetStream reserves max_bytes on the shared server.
    await ensureEventStream(jsm, { name: bus.eventStreamName, subjects: subjects.allEvents(), maxAgeMs: 3_600_000, duplicateWindowMs: 120_000, maxBytes: 64 * 1024 ** 2, deadLetter: { maxBytes: 16 * 1024 ** 2 } });
});

afterEach(async () => {
  for (const c of consumers.splice(0)) {
    await c.stop();
    await c.delete();
  }
});

afterAll(async () => {
  await jsm?.streams.delete(bus.eventStreamName).catch(() => undefined);
  await jsm?.streams.delete(dlqStream).catch(() => undefined);
  await nc?.close();
});

let consumerSeq = 0;
/** A consumer on events of one host (so tests never see each other's events). */
async function startConsumer(host: string, opts: Partial<EventConsumerOptions> & Pick<EventConsumerOptions, 'handler'>): Promise<EventConsumer> {
  const c = new EventConsumer({
    nc,
    subjects,
    streamName: bus.eventStreamName,
    name: `test-${++consumerSeq}`,
    filter: subjects.eventFilter({ area: 'host', streamId: host }),
    logger: pino({ level: 'silent' }),
    retryBackoff: { initialMs: 200, maxMs: 1_000 },
    ackWaitMs: 5_000,
    ...opts,
  });
  consumers.push(c);
  await c.start();
  return c;
}

async function publishEvent(e: EventEnvelope, msgID: string | undefined = e.id): Promise<void> {
  await js.publish(subjects.event(e.stream, e.type), Buffer.from(JSON.stringify(e)), msgID ? { msgID } : {});
}

async function deadLetters(consumerName: string): Promise<StoredMsg[]> {
  const out: StoredMsg[] = [];
  let info;
  try {
    info = await jsm.streams.info(dlqStream);
  } catch {
    return out;
  }
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(dlqStream, { seq }).catch(() => undefined);
    if (m && m.subject === subjects.deadLetter(consumerName)) out.push(m);
  }
  return out;
}

describe('EventConsumer (shared NATS)', () => {
  it('dead-letters malformed messages with the reason, logs each once, and goes on with the next good event', async () => {
    const host = 'malformed';
    const handled: EventEnvelope[] = [];
    const log = capturingLogger();
    const c = await startConsumer(host, { logger: log.logger, handler: async (e) => void handled.push(e) });
    const subject = subjects.event(`host-${host}`, 'HostOffline');

    await js.publish(subject, Buffer.from('{"id": not json'));
    const contractBreaker = { ...offline(host), data: { host, process: 'x', pid: -5, reason: 'bad pid' } };
    await js.publish(subject, Buffer.from(JSON.stringify(contractBreaker)));
    // a valid envelope published on a subject that does not match it
    const misplaced = offline('elsewhere');
    await js.publish(subject, Buffer.from(JSON.stringify(misplaced)));
    const good = offline(host, 1);
    await publishEvent(good);

    await expectEventually(() => expect(handled.map((e) => e.id)).toEqual([good.id]));
    expect(handled[0]).toEqual(good);
    const dl = await expectEventually(async () => {
      const d = await deadLetters(c.name);
      expect(d).toHaveLength(3);
      return d;
    });
    const reasons = dl.map((m) => m.header.get(DeadLetterHeaders.reason));
    expect(reasons[0]).toMatch(/invalid JSON/);
    expect(reasons[1]).toMatch(/HostOffline data at \/pid/);
    expect(reasons[2]).toMatch(/does not match the envelope/);
    for (const m of dl) {
      expect(m.header.get(DeadLetterHeaders.originalSubject)).toBe(subject);
      expect(m.header.get(DeadLetterHeaders.kind)).toBe('malformed');
      expect(m.header.get(DeadLetterHeaders.consumer)).toBe(c.name);
    }
    expect(dl[0]!.string()).toBe('{"id": not json'); // the original bytes are kept
    expect(c.metrics()).toMatchObject({ malformed: 3, deadLettered: 3, handled: 1 });

    // terminated: never redelivered, logged exactly once each
    await new Promise((r) => setTimeout(r, 500));
    const info = await jsm.consumers.info(bus.eventStreamName, c.name);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    const dlLogs = log.lines().filter((l) => l['msg'] === 'malformed message dead-lettered');
    expect(dlLogs).toHaveLength(3);
    expect(dlLogs[0]).toMatchObject({ subject, reason: expect.stringMatching(/invalid JSON/) });
  });

  it('redelivers after a handler error with a growing backoff, then succeeds', async () => {
    const host = 'flaky';
    const attempts: { at: number; ctx: EventContext }[] = [];
    const c = await startConsumer(host, {
      handler: async (_e, ctx) => {
        attempts.push({ at: Date.now(), ctx });
        if (attempts.length < 3) throw new Error(`transient failure ${attempts.length}`);
      },
    });
    const e = offline(host);
    await publishEvent(e);
    await expectEventually(() => expect(c.metrics().handled).toBe(1), { timeoutMs: 10_000 });
    expect(attempts.map((a) => a.ctx.deliveryCount)).toEqual([1, 2, 3]);
    expect(attempts[1]!.ctx.redelivered).toBe(true);
    // backoff: 200 ms after the first failure, 400 ms after the second
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(180);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(380);
    expect(c.metrics()).toMatchObject({ handlerErrors: 2, deadLettered: 0 });
    expect(await deadLetters(c.name)).toHaveLength(0);
  });

  it('dead-letters an event after maxDeliver failed deliveries, with the last error, and continues', async () => {
    const host = 'poison';
    const calls: string[] = [];
    const c = await startConsumer(host, {
      maxDeliver: 3,
      retryBackoff: { initialMs: 50, maxMs: 100 },
      handler: async (e, ctx) => {
        calls.push(`${e.id}#${ctx.deliveryCount}`);
        if ((e.data as { reason: string }).reason === 'r0') throw new Error(`boom ${ctx.deliveryCount}`);
      },
    });
    const poison = offline(host, 0);
    const next = offline(host, 1);
    await publishEvent(poison);
    await publishEvent(next);
    const dl = await expectEventually(async () => {
      const d = await deadLetters(c.name);
      expect(d).toHaveLength(1);
      return d[0]!;
    }, { timeoutMs: 10_000 });
    expect(dl.header.get(DeadLetterHeaders.kind)).toBe('handler_failed');
    expect(dl.header.get(DeadLetterHeaders.reason)).toMatch(/failed 3 times, last error: boom 3/);
    expect(dl.header.get(DeadLetterHeaders.deliveries)).toBe('3');
    expect(dl.header.get(DeadLetterHeaders.eventId)).toBe(poison.id);
    expect(JSON.parse(dl.string())).toEqual(poison);
    await expectEventually(() => expect(c.metrics().handled).toBe(1));
    expect(calls.filter((x) => x.startsWith(poison.id))).toEqual([1, 2, 3].map((n) => `${poison.id}#${n}`));
    await new Promise((r) => setTimeout(r, 300));
    expect(calls.filter((x) => x.startsWith(poison.id))).toHaveLength(3);
    const info = await jsm.consumers.info(bus.eventStreamName, c.name);
    expect(info.num_ack_pending).toBe(0);
  });

  it('handles an event id once although it is delivered twice', async () => {
    const host = 'twice';
    const seen: string[] = [];
    const c = await startConsumer(host, { handler: async (e) => void seen.push(e.id) });
    const e = offline(host);
    await publishEvent(e, `${e.id}-a`); // two stream messages with one event id
    await publishEvent(e, `${e.id}-b`);
    const marker = offline(host, 9);
    await publishEvent(marker);
    await expectEventually(() => expect(seen).toContain(marker.id));
    expect(seen.filter((id) => id === e.id)).toHaveLength(1);
    expect(c.metrics().duplicatesSkipped).toBe(1);
    const info = await jsm.consumers.info(bus.eventStreamName, c.name);
    expect(info.num_ack_pending).toBe(0);
  });

  it('consults a persistent guard passed in, before and after handling', async () => {
    const host = 'guarded';
    const done = new Set<string>();
    const calls: string[] = [];
    const guard: IdempotencyGuard = {
      isDone: async (id) => (calls.push(`isDone ${id}`), done.has(id)),
      markDone: async (id) => void (calls.push(`markDone ${id}`), done.add(id)),
    };
    const already = offline(host, 0);
    done.add(already.id); // handled in an earlier life of the process
    const fresh = offline(host, 1);
    const handled: string[] = [];
    await startConsumer(host, { idempotency: guard, handler: async (e) => void handled.push(e.id) });
    await publishEvent(already);
    await publishEvent(fresh);
    await expectEventually(() => expect(handled).toEqual([fresh.id]));
    expect(calls).toEqual([`isDone ${already.id}`, `isDone ${fresh.id}`, `markDone ${fresh.id}`]);
  });

  it('applies several filters (client-side on NATS < 2.10)', async () => {
    const handled: string[] = [];
    await startConsumer('unused', {
      filter: [subjects.eventFilter({ area: 'host', streamId: 'multi-a' }), subjects.eventFilter({ area: 'host', streamId: 'multi-b' })],
      handler: async (e) => void handled.push(e.stream),
    });
    await publishEvent(offline('multi-a'));
    await publishEvent(offline('multi-c'));
    await publishEvent(offline('multi-b'));
    await expectEventually(() => expect(handled.sort()).toEqual(['host-multi-a', 'host-multi-b']));
    await new Promise((r) => setTimeout(r, 200));
    expect(handled).toHaveLength(2);
  });

  it('stop() lets the event in progress finish and be acked', async () => {
    const host = 'drain';
    let finished = 0;
    let started = 0;
    const c = await startConsumer(host, {
      handler: async () => {
        started++;
        await new Promise((r) => setTimeout(r, 300));
        finished++;
      },
    });
    await publishEvent(offline(host));
    await expectEventually(() => expect(started).toBe(1));
    await c.stop();
    expect(finished).toBe(1);
    const info = await jsm.consumers.info(bus.eventStreamName, c.name);
    expect(info.num_ack_pending).toBe(0);
    expect(info.delivered.consumer_seq).toBe(1);
  });
});

describe('EventConsumer across a NATS crash and restart (private NATS)', () => {
  let nats: PrivateNats;
  const privBus = testBusNames();
  const privSubjects = createSubjects(privBus.subjectRoot);

  beforeAll(async () => {
    nats = await startPrivateNats();
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('keeps its durable position and receives what is published after the restart', async () => {
    const cnc = await connectNats(nats.url, pino({ level: 'silent' }), { reconnectTimeWaitMs: 100 });
    const pnc = await connectNats(nats.url, pino({ level: 'silent' }), { reconnectTimeWaitMs: 100 });
    const pjs = pnc.jetstream();
    await ensureEventStream(await pnc.jetstreamManager(), {
      name: privBus.eventStreamName,
      subjects: privSubjects.allEvents(),
      maxAgeMs: 3_600_000,
      duplicateWindowMs: 120_000,
    });
    const handled: string[] = [];
    const c = new EventConsumer({
      nc: cnc,
      subjects: privSubjects,
      streamName: privBus.eventStreamName,
      name: 'survivor',
      logger: pino({ level: 'silent' }),
      handler: async (e) => void handled.push(e.id),
    });
    await c.start();
    const publish = async (e: EventEnvelope) =>
      pjs.publish(privSubjects.event(e.stream, e.type), Buffer.from(JSON.stringify(e)), { msgID: e.id, timeout: 2_000 });
    try {
      const before = [0, 1, 2].map((i) => offline('survivor', i));
      for (const e of before) await publish(e);
      await expectEventually(() => expect(handled).toEqual(before.map((e) => e.id)));

      await nats.kill();
      await new Promise((r) => setTimeout(r, 500));
      await nats.restart();

      const after = [3, 4, 5].map((i) => offline('survivor', i));
      for (const e of after) {
        await expectEventually(() => publish(e), { timeoutMs: 15_000, intervalMs: 200 });
      }
      await expectEventually(() => expect(handled).toEqual([...before, ...after].map((e) => e.id)), { timeoutMs: 30_000 });
    } finally {
      await c.stop();
      await cnc.close();
      await pnc.close();
    }
  });
});
