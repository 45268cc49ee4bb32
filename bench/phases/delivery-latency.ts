// Phase process: the appending side of the append -> JetStream delivery measurement, deployed the
// way FleetCore runs it: the appenders and the OutboxRelay in one process (the relay is elected
// with its advisory lock and woken in-process by appends). The subscriber, an EventConsumer, runs
// in its own process (bench/phases/delivery-consumer.ts); the orchestrator joins both sides by
// event id on the machine's wall clock.
//
// Pacing: `ratePerSec` events per second, one event per appendToStream call, spread round-robin
// over `streams` worker streams, each stream written serially (a writer per aggregate).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client } from 'pg';
import type { JetStreamClient, NatsConnection } from 'nats';
import { createSubjects } from '@fleetvisor/contracts';
import { openEventStore, type CheckpointStore, type EventStore, type EventStoreConnection } from '@fleetvisor/event-store';
import { connectNats, DEFAULT_RELAY_LOCK_NAME, OutboxRelay } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';
import { isEntryPoint, serveOps } from '../lib/child';
import { progress } from '../lib/log';
import { summarize, type LatencySummary } from '../lib/percentiles';
import { RssSampler, retainedHeapMb, type MemoryReport } from '../lib/rss-sampler';
import { nowMs, sleep, wallMs } from '../lib/timer';
import { buildBatch, streamTemplates, workerStream } from '../lib/workload';

export interface LatencyArgs {
  databaseUrl: string;
  natsUrl: string;
  subjectRoot: string;
  streamName: string;
  ratePerSec: number;
  durationMs: number;
  warmupMs: number;
  streams: number;
  poolSize: number;
}

/**
 * Per measured event, wall-clock ms, indexed by the event's sequence number minus `seqFrom`. The
 * sequence number is written into the last 12 hex digits of the event id (still a valid UUIDv7),
 * so both processes find an event's slot without any per-event map: the bench's bookkeeping lives
 * in preallocated typed arrays and does not grow the heap that the memory check watches.
 */
export interface AppendRecords {
  seqFrom: number;
  count: number;
  /** The pacer wanted it appended at this time. */
  scheduledAt: number[];
  /** appendToStream was called. */
  callStart: number[];
  /** appendToStream returned (committed). */
  committedAt: number[];
  /** The relay called js.publish for it (NaN if not seen). */
  publishedAt: number[];
}

/** Timings of the relay's own steps, taken by wrapping what it is given (store, checkpoints, JetStream). */
export interface RelayBreakdown {
  published: number;
  batches: number;
  avgBatch: number;
  readAllCalls: number;
  /** readAll calls that returned nothing (idle, or nothing below the snapshot xmin yet). */
  emptyReads: number;
  readAllMs: LatencySummary;
  /** js.publish -> PubAck, per event. */
  publishToAckMs: LatencySummary;
  checkpointSaveMs: LatencySummary;
  readFailures: number;
  publishFailures: number;
}

export interface HorizonReport {
  samples: number;
  /** Samples where the oldest write transaction on the server was in another database. */
  foreignHeld: number;
  /** Age of that foreign transaction at those samples. */
  foreignAgeMs: LatencySummary | null;
  /** Each foreign holder seen: [its transaction start, last seen holding], wall-clock ms. */
  foreignIntervals: [number, number][];
}

export interface LatencyRunResult {
  ratePerSec: number;
  durationMs: number;
  achievedRatePerSec: number;
  records: AppendRecords;
  relay: RelayBreakdown;
  /**
   * Gap-free reads see only events below the oldest running write transaction of the whole
   * Postgres server (xids are cluster-wide). Sampled every 20 ms: how often that oldest transaction
   * belonged to another database (other work on the shared server), and how old it was.
   */
  horizon: HorizonReport;
  /** Event loop delay of this process (appenders and relay share it), ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** This process (appenders + relay) over the measured window. */
  memory: MemoryReport;
}

/** Samples which transaction holds the snapshot xmin of the server, until stopped. */
async function startHorizonSampler(databaseUrl: string, intervalMs: number): Promise<() => Promise<HorizonReport>> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'bench-horizon' });
  await client.connect();
  let samples = 0;
  const foreignAges: number[] = [];
  const intervals = new Map<string, [number, number]>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await client.query<{ ours: boolean; pid: number; start_ms: number; now_ms: number }>(
        `SELECT datname = current_database() AS ours, pid,
                extract(epoch FROM xact_start) * 1000 AS start_ms, extract(epoch FROM clock_timestamp()) * 1000 AS now_ms
           FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
          ORDER BY age(backend_xid) DESC LIMIT 1`,
      );
      samples++;
      const top = r.rows[0];
      if (top && !top.ours) {
        const start = Number(top.start_ms);
        const now = Number(top.now_ms);
        foreignAges.push(now - start);
        const key = `${top.pid}@${start}`;
        const seen = intervals.get(key);
        if (seen) seen[1] = now;
        else intervals.set(key, [start, now]);
      }
      await sleep(intervalMs);
    }
  })();
  return async () => {
    stopped = true;
    await loop.catch(() => undefined);
    await client.end().catch(() => undefined);
    return {
      samples,
      foreignHeld: foreignAges.length,
      foreignAgeMs: foreignAges.length > 0 ? summarize(foreignAges) : null,
      foreignIntervals: [...intervals.values()],
    };
  };
}

interface RelayProbe {
  store: EventStore & { onAppended(listener: () => void): () => void };
  checkpoints: CheckpointStore;
  js: JetStreamClient;
  /** js.publish start, by event sequence number. */
  publishedAt: Float64Array;
  samples: { read: number[]; emptyReads: number; ack: number[]; save: number[] };
  recording: boolean;
}

/** Wraps the relay's dependencies to time its steps; its behaviour is unchanged. */
function relayProbe(conn: EventStoreConnection, js: JetStreamClient, capacity: number): RelayProbe {
  const store = conn.store;
  const probe: RelayProbe = {
    publishedAt: nanArray(capacity),
    samples: { read: [], emptyReads: 0, ack: [], save: [] },
    recording: false,
    store: {
      appendToStream: (stream, events, opts) => store.appendToStream(stream, events, opts),
      readStream: (stream, opts) => store.readStream(stream, opts),
      headCheckpoint: () => store.headCheckpoint(),
      readAll: async (after, limit, opts) => {
        const t0 = nowMs();
        const r = await store.readAll(after, limit, opts);
        if (probe.recording) {
          probe.samples.read.push(nowMs() - t0);
          if (r.events.length === 0) probe.samples.emptyReads++;
        }
        return r;
      },
      onAppended: (listener) => store.onAppended(listener),
    },
    checkpoints: {
      load: (name) => conn.checkpoints.load(name),
      save: async (name, checkpoint) => {
        const t0 = nowMs();
        await conn.checkpoints.save(name, checkpoint);
        if (probe.recording) probe.samples.save.push(nowMs() - t0);
      },
    },
    js: new Proxy(js, {
      get(target, prop, receiver) {
        if (prop !== 'publish') return Reflect.get(target, prop, receiver) as unknown;
        const publish: JetStreamClient['publish'] = async (subject, payload, opts) => {
          const t0 = nowMs();
          if (probe.recording && opts?.msgID) probe.publishedAt[seqOfId(opts.msgID)] = wallMs();
          const ack = await target.publish(subject, payload, opts);
          if (probe.recording) probe.samples.ack.push(nowMs() - t0);
          return ack;
        };
        return publish;
      },
    }),
  };
  return probe;
}

/** Puts `seq` into the random tail of a UUIDv7. */
export function idWithSeq(id: string, seq: number): string {
  return id.slice(0, 24) + seq.toString(16).padStart(12, '0');
}

export function seqOfId(id: string): number {
  return parseInt(id.slice(24), 16);
}

/** Slots the typed arrays need for a run (warm-up and measured events, with room to spare). */
export function latencyCapacity(ratePerSec: number, warmupMs: number, durationMs: number): number {
  return Math.ceil((ratePerSec * (warmupMs + durationMs)) / 1000) * 2 + 10_000;
}

function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(Number.NaN);
}

let cleanup: (() => Promise<void>) | undefined;
let measure: (() => Promise<LatencyRunResult>) | undefined;

/** Connects, starts the relay and warms up; `measure` then runs the measured window. */
async function prepare(args: LatencyArgs): Promise<void> {
  const logger = createLogger({ name: 'bench-relay', level: 'warn', format: 'json', destination: process.stderr });
  const subjects = createSubjects(args.subjectRoot);
  const conn: EventStoreConnection = await openEventStore(args.databaseUrl, { migrate: true, poolSize: args.poolSize, applicationName: 'bench-latency' });
  let nc: NatsConnection | undefined = undefined;
  let relay: OutboxRelay | undefined = undefined;
  cleanup = async () => {
    await relay?.stop().catch(() => undefined);
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
    await conn.close().catch(() => undefined);
    cleanup = undefined;
  };
  // The relay starts at the head: this measures live delivery, not a republish of the bench log.
  await conn.checkpoints.save('relay', await conn.store.headCheckpoint());
  nc = await connectNats(args.natsUrl, logger, { name: 'bench-relay' });
  const capacity = latencyCapacity(args.ratePerSec, args.warmupMs, args.durationMs);
  const probe = relayProbe(conn, nc.jetstream(), capacity);
  relay = new OutboxRelay({
    store: probe.store,
    checkpoints: probe.checkpoints,
    lock: conn.leaderLock(DEFAULT_RELAY_LOCK_NAME),
    js: probe.js,
    subjects,
    streamName: args.streamName,
    logger,
  });
  relay.start();

  const streams = Array.from({ length: args.streams }, (_, i) => {
    const worker = `bench-latency-${i}`;
    return { stream: workerStream(worker), templates: streamTemplates(worker), version: 0, queue: [] as number[], busy: false };
  });
  const slots = { scheduledAt: nanArray(capacity), callStart: nanArray(capacity), committedAt: nanArray(capacity) };
  let nextSeq = 0;
  let seqFrom = 0;
  let inFlight = 0;
  const pump = async (w: (typeof streams)[number]): Promise<void> => {
    if (w.busy) return;
    w.busy = true;
    inFlight++;
    try {
      while (w.queue.length > 0) {
        const scheduledAt = w.queue.shift()!;
        const seq = nextSeq++;
        if (seq >= capacity) throw new Error(`latency bench: more than ${capacity} events`);
        const built = buildBatch(w.templates, w.version, 1)[0]!;
        const event = { ...built, id: idWithSeq(built.id, seq) };
        slots.scheduledAt[seq] = scheduledAt;
        slots.callStart[seq] = wallMs();
        await conn.store.appendToStream(w.stream, [event], { expectedVersion: w.version });
        slots.committedAt[seq] = wallMs();
        w.version++;
      }
    } finally {
      w.busy = false;
      inFlight--;
    }
  };
  const pace = async (durationMs: number): Promise<number> => {
    const start = wallMs();
    let issued = 0;
    let rr = 0;
    for (;;) {
      const elapsed = wallMs() - start;
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
  const settle = async (): Promise<void> => {
    while (inFlight > 0) await sleep(5);
  };

  progress(`latency: warm-up ${args.warmupMs} ms at ${args.ratePerSec} events/s over ${args.streams} streams`);
  await pace(args.warmupMs);
  await settle();
  await sleep(500);

  measure = async (): Promise<LatencyRunResult> => {
    const retainedStart = retainedHeapMb();
    const sampler = new RssSampler(100).start();
    const stopHorizon = await startHorizonSampler(args.databaseUrl, 20);
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const relayBefore = relay.metrics();
    seqFrom = nextSeq;
    probe.recording = true;
    progress(`latency: measuring ${args.durationMs} ms at ${args.ratePerSec} events/s`);
    const t0 = wallMs();
    const issued = await pace(args.durationMs);
    const pacedMs = wallMs() - t0;
    await settle();
    const seqTo = nextSeq;
    // Let the relay publish what was appended last.
    const head = await conn.store.lastCommittedCheckpoint();
    const deadline = nowMs() + 10_000;
    while (relay.status().checkpoint !== head && nowMs() < deadline) await sleep(10);
    probe.recording = false;
    loopDelay.disable();
    const horizon = await stopHorizon();
    const rss = sampler.stop();
    const relayAfter = relay.metrics();
    const retainedEnd = retainedHeapMb();
    const take = (a: Float64Array): number[] => Array.from(a.subarray(seqFrom, seqTo));
    const records: AppendRecords = {
      seqFrom,
      count: seqTo - seqFrom,
      scheduledAt: take(slots.scheduledAt),
      callStart: take(slots.callStart),
      committedAt: take(slots.committedAt),
      publishedAt: take(probe.publishedAt),
    };
    const batches = relayAfter.batches - relayBefore.batches;
    const published = relayAfter.published + relayAfter.duplicates - relayBefore.published - relayBefore.duplicates;
    return {
      ratePerSec: args.ratePerSec,
      durationMs: args.durationMs,
      achievedRatePerSec: Math.round((issued * 1000) / pacedMs),
      records,
      relay: {
        published,
        batches,
        avgBatch: batches > 0 ? Math.round((published / batches) * 10) / 10 : 0,
        readAllCalls: probe.samples.read.length,
        emptyReads: probe.samples.emptyReads,
        readAllMs: summarize(probe.samples.read),
        publishToAckMs: summarize(probe.samples.ack),
        checkpointSaveMs: summarize(probe.samples.save),
        readFailures: relayAfter.readFailures - relayBefore.readFailures,
        publishFailures: relayAfter.publishFailures - relayBefore.publishFailures,
      },
      horizon,
      eventLoopDelayMs: {
        p50: Math.round(loopDelay.percentile(50) / 1e4) / 100,
        p99: Math.round(loopDelay.percentile(99) / 1e4) / 100,
        max: Math.round(loopDelay.max / 1e4) / 100,
      },
      memory: { ...rss, retainedHeapStartMb: retainedStart, retainedHeapEndMb: retainedEnd },
    };
  };
}

export interface DeliveryReport {
  ratePerSec: number;
  durationMs: number;
  achievedRatePerSec: number;
  appended: number;
  delivered: number;
  missing: number;
  /** Receive - start of the append call: the headline number. */
  appendToDelivery: LatencySummary;
  /** The append call alone (start -> committed). */
  appendCall: LatencySummary;
  /** Committed -> the relay publishes it (snapshot-xmin wait + relay cycle). */
  commitToPublish: LatencySummary;
  /** Relay publishes -> the consumer's handler has it (JetStream + pull consumer). */
  publishToHandler: LatencySummary;
  /** Receive - the time the pacer wanted the append (queueing behind slow appends of the same stream). */
  scheduledToDelivery: LatencySummary;
  /**
   * Events whose commit -> publish window overlapped a write transaction of another database that
   * was older than the event's commit (it held the snapshot xmin), and the headline latency of the
   * other events.
   */
  heldByForeignTransaction: number;
  appendToDeliveryNotHeld: LatencySummary;
}

/** Joins the appending side's records with the consumer's receive times. */
export function deliveryReport(run: LatencyRunResult, receivedAt: readonly number[]): DeliveryReport {
  const r = run.records;
  const pick = (f: (i: number) => number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < r.count; i++) {
      const v = f(i);
      if (!Number.isNaN(v)) out.push(v);
    }
    return out;
  };
  const delivered = receivedAt.filter((t) => !Number.isNaN(t)).length;
  const foreign = run.horizon.foreignIntervals;
  const held = (i: number): boolean => {
    const committed = r.committedAt[i]!;
    const published = Number.isNaN(r.publishedAt[i]!) ? receivedAt[i]! : r.publishedAt[i]!;
    return foreign.some(([start, seen]) => start < committed && seen > committed - 25 && start < published);
  };
  let heldCount = 0;
  const notHeld: number[] = [];
  for (let i = 0; i < r.count; i++) {
    if (Number.isNaN(receivedAt[i]!)) continue;
    if (held(i)) heldCount++;
    else notHeld.push(receivedAt[i]! - r.callStart[i]!);
  }
  return {
    ratePerSec: run.ratePerSec,
    durationMs: run.durationMs,
    achievedRatePerSec: run.achievedRatePerSec,
    appended: r.count,
    delivered,
    missing: r.count - delivered,
    appendToDelivery: summarize(pick((i) => receivedAt[i]! - r.callStart[i]!)),
    appendCall: summarize(pick((i) => r.committedAt[i]! - r.callStart[i]!)),
    commitToPublish: summarize(pick((i) => r.publishedAt[i]! - r.committedAt[i]!)),
    publishToHandler: summarize(pick((i) => receivedAt[i]! - r.publishedAt[i]!)),
    scheduledToDelivery: summarize(pick((i) => receivedAt[i]! - r.scheduledAt[i]!)),
    heldByForeignTransaction: heldCount,
    appendToDeliveryNotHeld: summarize(notHeld),
  };
}

export const latencyOps = {
  prepare,
  async measure(_args: Record<string, never>): Promise<LatencyRunResult> {
    if (!measure) throw new Error('prepare first');
    try {
      return await measure();
    } finally {
      await cleanup?.();
    }
  },
};


if (isEntryPoint(__filename)) serveOps(latencyOps, async () => cleanup?.());
