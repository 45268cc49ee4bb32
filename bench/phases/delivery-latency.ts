// Phase process: append -> JetStream delivery latency at a paced rate. In this one process: the
// appenders (one append call per event, `streams` streams each written serially), the OutboxRelay
// (elected leader, woken in-process by appends) publishing to a JetStream stream of this run, and
// an EventConsumer (durable pull consumer, deliver-new) whose handler stamps the receive time.
// Latency = handler time - start of the appendToStream call of that event (one monotonic clock).
import { createSubjects, type EventEnvelope } from '@fleetvisor/contracts';
import { openEventStore, type EventStoreConnection } from '@fleetvisor/event-store';
import { connectNats, deadLetterStreamName, ensureEventStream, EventConsumer, OutboxRelay, DEFAULT_RELAY_LOCK_NAME } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import type { NatsConnection } from 'nats';
import { isEntryPoint, serveOps } from '../lib/child';
import { progress } from '../lib/log';
import { summarize, type LatencySummary } from '../lib/percentiles';
import { RssSampler, toMb, type RssReport } from '../lib/rss-sampler';
import { nowMs, sleep } from '../lib/timer';
import { buildBatch, streamTemplates, workerStream } from '../lib/workload';

export interface LatencyArgs {
  databaseUrl: string;
  natsUrl: string;
  subjectRoot: string;
  streamName: string;
  ratePerSec: number;
  durationMs: number;
  warmupMs: number;
  /** Streams written round-robin (each serially, one event per append call). */
  streams: number;
  poolSize: number;
  /** How long to wait for the last deliveries after the paced window. */
  drainTimeoutMs: number;
}

export interface RssPoint {
  atMs: number;
  rssMb: number;
  heapUsedMb: number;
}

export interface LatencyPhaseResult {
  natsServer: string;
  ratePerSec: number;
  durationMs: number;
  appended: number;
  delivered: number;
  missing: number;
  achievedRatePerSec: number;
  /** Receive - start of the append call: the headline number. */
  appendToDelivery: LatencySummary;
  /** The append call alone (start -> commit acknowledged). */
  appendCall: LatencySummary;
  /** Append committed -> received: relay read + publish + PubAck wait + consumer pull. */
  commitToDelivery: LatencySummary;
  /** Receive - the time the pacer wanted the event appended (shows queueing behind a slow append). */
  scheduledToDelivery: LatencySummary;
  relay: { published: number; batches: number; avgBatch: number; readFailures: number; publishFailures: number };
  consumer: { received: number; handled: number; deadLettered: number };
  /** Whole process (appenders + relay + consumer), sampled every 100 ms after warm-up. */
  rss: RssReport & { beforeMb: number; afterMb: number; heapBeforeMb: number; heapAfterMb: number; timeline: RssPoint[] };
}

interface Sent {
  scheduledAt: number;
  callStart: number;
  committedAt: number;
}

let cleanup: (() => Promise<void>) | undefined;

async function run(args: LatencyArgs): Promise<LatencyPhaseResult> {
  const logger = createLogger({ name: 'bench-latency', level: 'warn', format: 'json', destination: process.stderr });
  const subjects = createSubjects(args.subjectRoot);
  const conn: EventStoreConnection = await openEventStore(args.databaseUrl, { migrate: true, poolSize: args.poolSize, applicationName: 'bench-latency' });
  let nc: NatsConnection | undefined;
  let relay: OutboxRelay | undefined;
  let consumer: EventConsumer | undefined;
  cleanup = async () => {
    await consumer?.stop().catch(() => undefined);
    await relay?.stop().catch(() => undefined);
    if (nc && !nc.isClosed()) {
      const jsm = await nc.jetstreamManager();
      for (const name of [args.streamName, deadLetterStreamName(args.streamName)]) await jsm.streams.delete(name).catch(() => undefined);
      await nc.close().catch(() => undefined);
    }
    await conn.close().catch(() => undefined);
    cleanup = undefined;
  };
  try {
    // The relay starts at the head: this measures live delivery, not a republish of the bench log.
    await conn.checkpoints.save('relay', await conn.store.headCheckpoint());
    nc = await connectNats(args.natsUrl, logger, { name: 'bench-latency' });
    const natsServer = nc.info?.version ?? 'unknown';
    await ensureEventStream(await nc.jetstreamManager(), { name: args.streamName, subjects: subjects.allEvents(), maxAgeMs: 15 * 60_000 }, logger);

    const sent = new Map<string, Sent>();
    const samples = { e2e: [] as number[], append: [] as number[], commit: [] as number[], scheduled: [] as number[] };
    let measuring = false;
    let delivered = 0;
    consumer = new EventConsumer({
      nc,
      subjects,
      streamName: args.streamName,
      name: 'bench-latency',
      logger,
      deliverPolicy: 'new',
      handler: async (event: EventEnvelope) => {
        const t = nowMs();
        const s = sent.get(event.id);
        if (!s) return;
        sent.delete(event.id);
        if (!measuring) return;
        delivered++;
        samples.e2e.push(t - s.callStart);
        samples.commit.push(t - s.committedAt);
        samples.scheduled.push(t - s.scheduledAt);
      },
    });
    await consumer.start();
    relay = new OutboxRelay({
      store: conn.store,
      checkpoints: conn.checkpoints,
      lock: conn.leaderLock(DEFAULT_RELAY_LOCK_NAME),
      js: nc.jetstream(),
      subjects,
      streamName: args.streamName,
      logger,
    });
    relay.start();

    // Writers: one serial queue per stream, one event per append call.
    const streams = Array.from({ length: args.streams }, (_, i) => {
      const worker = `bench-latency-${i}`;
      return { stream: workerStream(worker), templates: streamTemplates(worker), version: 0, queue: [] as number[], busy: false };
    });
    let appended = 0;
    let inFlight = 0;
    const pump = async (w: (typeof streams)[number]): Promise<void> => {
      if (w.busy) return;
      w.busy = true;
      inFlight++;
      try {
        while (w.queue.length > 0) {
          const scheduledAt = w.queue.shift()!;
          const [event] = buildBatch(w.templates, w.version, 1);
          const callStart = nowMs();
          const record: Sent = { scheduledAt, callStart, committedAt: Number.NaN };
          sent.set(event!.id, record);
          await conn.store.appendToStream(w.stream, [event!], { expectedVersion: w.version });
          record.committedAt = nowMs();
          w.version++;
          if (measuring) {
            appended++;
            samples.append.push(record.committedAt - callStart);
          }
        }
      } finally {
        w.busy = false;
        inFlight--;
      }
    };
    const pace = async (durationMs: number): Promise<number> => {
      const start = nowMs();
      let issued = 0;
      let rr = 0;
      for (;;) {
        const elapsed = nowMs() - start;
        if (elapsed >= durationMs) break;
        const due = Math.floor((elapsed * args.ratePerSec) / 1000) - issued;
        for (let i = 0; i < due; i++) {
          const w = streams[rr++ % streams.length]!;
          w.queue.push(start + ((issued + i) * 1000) / args.ratePerSec);
          void pump(w);
        }
        issued += Math.max(0, due);
        await sleep(1);
      }
      return issued;
    };
    const idle = async (): Promise<void> => {
      while (inFlight > 0) await sleep(5);
    };

    progress(`latency: warm-up ${args.warmupMs} ms at ${args.ratePerSec} events/s`);
    await pace(args.warmupMs);
    await idle();
    const warmDeadline = nowMs() + 5_000;
    while (sent.size > 0 && nowMs() < warmDeadline) await sleep(10);
    sent.clear();

    const rssBefore = process.memoryUsage();
    const sampler = new RssSampler(100).start();
    const timeline: RssPoint[] = [];
    const t0 = nowMs();
    const timelineTimer = setInterval(() => {
      const m = process.memoryUsage();
      timeline.push({ atMs: Math.round(nowMs() - t0), rssMb: toMb(m.rss), heapUsedMb: toMb(m.heapUsed) });
    }, Math.max(500, Math.round(args.durationMs / 20)));
    const relayBefore = relay.metrics();
    measuring = true;
    progress(`latency: measuring ${args.durationMs} ms at ${args.ratePerSec} events/s`);
    const issued = await pace(args.durationMs);
    const pacedMs = nowMs() - t0;
    await idle();
    const drainDeadline = nowMs() + args.drainTimeoutMs;
    while (sent.size > 0 && nowMs() < drainDeadline) await sleep(5);
    measuring = false;
    clearInterval(timelineTimer);
    const rss = sampler.stop();
    const rssAfter = process.memoryUsage();
    const relayAfter = relay.metrics();
    const batches = relayAfter.batches - relayBefore.batches;
    const published = relayAfter.published + relayAfter.duplicates - relayBefore.published - relayBefore.duplicates;
    const c = consumer.metrics();
    const result: LatencyPhaseResult = {
      natsServer,
      ratePerSec: args.ratePerSec,
      durationMs: args.durationMs,
      appended,
      delivered,
      missing: appended - delivered,
      achievedRatePerSec: Math.round((issued * 1000) / pacedMs),
      appendToDelivery: summarize(samples.e2e),
      appendCall: summarize(samples.append),
      commitToDelivery: summarize(samples.commit),
      scheduledToDelivery: summarize(samples.scheduled),
      relay: {
        published,
        batches,
        avgBatch: batches > 0 ? Math.round((published / batches) * 10) / 10 : 0,
        readFailures: relayAfter.readFailures,
        publishFailures: relayAfter.publishFailures,
      },
      consumer: { received: c.received, handled: c.handled, deadLettered: c.deadLettered },
      rss: {
        ...rss,
        beforeMb: toMb(rssBefore.rss),
        afterMb: toMb(rssAfter.rss),
        heapBeforeMb: toMb(rssBefore.heapUsed),
        heapAfterMb: toMb(rssAfter.heapUsed),
        timeline,
      },
    };
    progress(
      `latency: p50 ${result.appendToDelivery.p50Ms} ms, p99 ${result.appendToDelivery.p99Ms} ms over ${delivered} events (append p50 ${result.appendCall.p50Ms} ms); rss ${result.rss.beforeMb} -> ${result.rss.afterMb} MB`,
    );
    return result;
  } finally {
    await cleanup?.();
  }
}

export const latencyOps = { run };

if (isEntryPoint(__filename)) serveOps(latencyOps, async () => cleanup?.());
