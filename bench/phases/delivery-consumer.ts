// Phase process: the subscriber side of the delivery-latency measurement. An EventConsumer
// (durable pull consumer, deliver-new, the library's defaults) on the run's JetStream stream; its
// handler stamps the wall-clock receive time of each event. The appending side (appenders + relay)
// runs in bench/phases/delivery-latency.ts; the orchestrator joins both by event id.
import { createSubjects, type EventEnvelope } from '@fleetvisor/contracts';
import { connectNats, deadLetterStreamName, ensureEventStream, EventConsumer } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import type { NatsConnection } from 'nats';
import { isEntryPoint, serveOps } from '../lib/child';
import { seqOfId } from './delivery-latency';
import { RssSampler, retainedHeapMb, type MemoryReport } from '../lib/rss-sampler';
import { sleep, wallMs } from '../lib/timer';

export interface ConsumerStartArgs {
  natsUrl: string;
  subjectRoot: string;
  streamName: string;
  /** Max age of the run's stream (it is deleted at the end; this only bounds a leftover). */
  streamMaxAgeMs: number;
  /** Slots for receive times (latencyCapacity of the run). */
  capacity: number;
}

export interface ConsumerCollectArgs {
  /** Sequence numbers whose delivery is awaited (the measured appends): [seqFrom, seqFrom + count). */
  seqFrom: number;
  count: number;
  timeoutMs: number;
}

export interface ConsumerCollectResult {
  natsServer: string;
  /** Wall-clock receive time per awaited sequence number (NaN when not received). */
  receivedAt: number[];
  received: number;
  metrics: { received: number; handled: number; deadLettered: number; malformed: number };
  memory: MemoryReport;
}

let nc: NatsConnection | undefined;
let consumer: EventConsumer | undefined;
let streamName = '';
/** Receive time by event sequence number (see idWithSeq): no per-event heap bookkeeping. */
let receivedAt = new Float64Array(0);
let sampler: RssSampler | undefined;
let retainedStart = 0;

export const consumerOps = {
  async start(args: ConsumerStartArgs): Promise<{ natsServer: string }> {
    const logger = createLogger({ name: 'bench-consumer', level: 'warn', format: 'json', destination: process.stderr });
    const subjects = createSubjects(args.subjectRoot);
    streamName = args.streamName;
    receivedAt = new Float64Array(args.capacity).fill(Number.NaN);
    nc = await connectNats(args.natsUrl, logger, { name: 'bench-consumer' });
    await ensureEventStream(await nc.jetstreamManager(), { name: args.streamName, subjects: subjects.allEvents(), maxAgeMs: args.streamMaxAgeMs }, logger);
    consumer = new EventConsumer({
      nc,
      subjects,
      streamName: args.streamName,
      name: 'bench-latency',
      logger,
      deliverPolicy: 'new',
      handler: async (event: EventEnvelope) => {
        const seq = seqOfId(event.id);
        if (seq < receivedAt.length && Number.isNaN(receivedAt[seq]!)) receivedAt[seq] = wallMs();
      },
    });
    await consumer.start();
    return { natsServer: nc.info?.version ?? 'unknown' };
  },

  /** Marks the start of the measured window (after the appending side's warm-up). */
  async markStart(): Promise<void> {
    retainedStart = retainedHeapMb();
    sampler = new RssSampler(100).start();
  },

  async collect(args: ConsumerCollectArgs): Promise<ConsumerCollectResult> {
    if (!consumer || !nc || !sampler) throw new Error('start and markStart first');
    const deadline = wallMs() + args.timeoutMs;
    const window = receivedAt.subarray(args.seqFrom, args.seqFrom + args.count);
    const missing = (): number => window.reduce((n, t) => (Number.isNaN(t) ? n + 1 : n), 0);
    while (missing() > 0 && wallMs() < deadline) await sleep(20);
    const rss = sampler.stop();
    const retainedEnd = retainedHeapMb();
    const times = Array.from(window);
    const m = consumer.metrics();
    return {
      natsServer: nc.info?.version ?? 'unknown',
      receivedAt: times,
      received: times.filter((t) => !Number.isNaN(t)).length,
      metrics: { received: m.received, handled: m.handled, deadLettered: m.deadLettered, malformed: m.malformed },
      memory: { ...rss, retainedHeapStartMb: retainedStart, retainedHeapEndMb: retainedEnd },
    };
  },

  /** Stops the consumer and deletes the run's streams. */
  async close(): Promise<void> {
    await consumer?.stop().catch(() => undefined);
    consumer = undefined;
    if (nc && !nc.isClosed()) {
      const jsm = await nc.jetstreamManager();
      for (const name of [streamName, deadLetterStreamName(streamName)]) await jsm.streams.delete(name).catch(() => undefined);
      await nc.close().catch(() => undefined);
    }
    nc = undefined;
  },
};

if (isEntryPoint(__filename)) serveOps(consumerOps, () => consumerOps.close());
