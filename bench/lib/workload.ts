// The append workload both event stores get: the same events, the same stream layout, the same
// writer loop. Only the `AppendCall` differs (ours vs Emmett).
//
// Events are the fleet's hot path: sealing threads changing state (ThreadStateChanged), with the
// odd ThreadPaused / ThreadResumed, in `worker-<name>` streams. Data is the contract's own example
// for each type (kept valid by the contracts tests) with the worker, thread and sector varied, so
// every event passes the real catalog validation on append.
import {
  EVENT_EXAMPLES,
  ThreadPaused,
  ThreadResumed,
  ThreadStateChanged,
  newEventFor,
  type EventEnvelope,
} from '@fleetvisor/contracts';
import { fastUuidv7 } from './fast-ids';
import { perEvent, type CpuPerEvent, type CpuUse } from './cpu';
import { summarize, type LatencySummary } from './percentiles';
import { nowMs, rate } from './timer';

export interface AppendShape {
  batchSize: number;
  writers: number;
}

export const APPEND_SHAPES: readonly AppendShape[] = [
  { batchSize: 1, writers: 1 },
  { batchSize: 1, writers: 8 },
  { batchSize: 10, writers: 1 },
  { batchSize: 10, writers: 8 },
  { batchSize: 100, writers: 1 },
  { batchSize: 100, writers: 8 },
];

export const shapeKey = (s: AppendShape): string => `b${s.batchSize}w${s.writers}`;

/** Stream name `worker-<worker>` for a worker name. */
export const workerStream = (worker: string): string => `worker-${worker}`;

/**
 * Event number `seq` of worker `worker`: 18 in 20 are ThreadStateChanged, then one ThreadPaused
 * and one ThreadResumed. As JSON: envelope ~500 bytes, data ~170, metadata ~140 (payloadStats).
 */
export function workerEvent(worker: string, seq: number, options: { id?: string; occurredAt?: Date } = {}): EventEnvelope {
  const index = seq % 16;
  const metadata = { correlationId: fastUuidv7(), host: `${worker}.fra1.fleet.example.net`, actor: 'worker-agent' };
  const opts = { id: fastUuidv7(), ...options };
  const kind = seq % 20;
  if (kind === 18) return newEventFor(ThreadPaused, { ...EVENT_EXAMPLES.ThreadPaused, worker, index }, metadata, opts);
  if (kind === 19) return newEventFor(ThreadResumed, { ...EVENT_EXAMPLES.ThreadResumed, worker, index }, metadata, opts);
  const sectorId = `s-t01000-${100_000 + seq}`;
  return newEventFor(ThreadStateChanged, { ...EVENT_EXAMPLES.ThreadStateChanged, worker, index, sectorId, location: `/mnt/nvme${index % 4}/store${index}` }, metadata, opts);
}

/** Average sizes of the events the bench writes (reported with the results). */
export function payloadStats(): { envelopeBytes: number; dataBytes: number; metadataBytes: number; types: string[] } {
  const sample = Array.from({ length: 200 }, (_, i) => workerEvent('bench-0a1b2c3d-b10w8-w3-s0', i));
  const avg = (f: (e: EventEnvelope) => unknown): number =>
    Math.round(sample.reduce((a, e) => a + Buffer.byteLength(JSON.stringify(f(e))), 0) / sample.length);
  return {
    envelopeBytes: avg((e) => e),
    dataBytes: avg((e) => e.data),
    metadataBytes: avg((e) => e.metadata),
    types: [ThreadStateChanged.type, ThreadPaused.type, ThreadResumed.type],
  };
}

const TEMPLATES_PER_STREAM = 20;

/** The 20-event cycle of one worker stream, built once per stream (not timed per event). */
export function streamTemplates(worker: string): EventEnvelope[] {
  return Array.from({ length: TEMPLATES_PER_STREAM }, (_, i) => workerEvent(worker, i));
}

/**
 * A batch for one append: the stream's templates with a fresh id each, one occurredAt and one
 * correlation id per batch (as a command handler appending its decision would). About 1 µs per
 * event, so building batches stays out of the throughput numbers.
 */
export function buildBatch(templates: readonly EventEnvelope[], fromVersion: number, size: number, occurredAt = new Date()): EventEnvelope[] {
  const at = occurredAt.toISOString();
  const batch = new Array<EventEnvelope>(size);
  let metadata: EventEnvelope['metadata'] | undefined;
  for (let i = 0; i < size; i++) {
    const t = templates[(fromVersion + i) % templates.length]!;
    metadata ??= { ...t.metadata, correlationId: fastUuidv7() };
    batch[i] = { ...t, id: fastUuidv7(), occurredAt: at, metadata };
  }
  return batch;
}

/** One append of `events` to `stream`, which holds exactly `expectedVersion` events before it. */
export type AppendCall = (stream: string, events: EventEnvelope[], expectedVersion: number) => Promise<void>;

/** One timed round of one shape, as a phase measured it (raw, so rounds can be merged). */
export interface AppendRound extends AppendShape {
  events: number;
  appendCalls: number;
  elapsedMs: number;
  /** Latency of each append call (one transaction), ms. */
  callLatenciesMs: number[];
  /** CPU used meanwhile by the phase process and by its Postgres backends. */
  cpu: CpuUse;
}

/** A shape's rounds merged: what the bench reports. */
export interface AppendShapeResult extends AppendShape {
  rounds: number;
  events: number;
  appendCalls: number;
  elapsedMs: number;
  eventsPerSec: number;
  callLatency: LatencySummary;
  /** CPU per event: client process and its Postgres backends. */
  cpu: CpuPerEvent;
}

export function mergeRounds(rounds: readonly AppendRound[]): AppendShapeResult {
  const first = rounds[0];
  if (!first) throw new Error('no rounds to merge');
  const events = rounds.reduce((a, r) => a + r.events, 0);
  const elapsedMs = rounds.reduce((a, r) => a + r.elapsedMs, 0);
  const serverMs = rounds.some((r) => r.cpu.serverMs === null) ? null : rounds.reduce((a, r) => a + (r.cpu.serverMs ?? 0), 0);
  return {
    batchSize: first.batchSize,
    writers: first.writers,
    rounds: rounds.length,
    events,
    appendCalls: rounds.reduce((a, r) => a + r.appendCalls, 0),
    elapsedMs: Math.round(elapsedMs),
    eventsPerSec: rate(events, elapsedMs),
    callLatency: summarize(rounds.flatMap((r) => r.callLatenciesMs)),
    cpu: perEvent({ clientMs: rounds.reduce((a, r) => a + r.cpu.clientMs, 0), serverMs }, events),
  };
}

export interface AppendRunOptions {
  durationMs: number;
  /** A writer moves to a new stream after this many events (streams of realistic length). */
  eventsPerStream: number;
  /** Distinguishes stream names across shapes, rounds and runs. */
  tag: string;
}

/**
 * Runs `shape.writers` writers for `durationMs`, each appending `shape.batchSize` events per call
 * with an exact expected version to streams it alone owns. Throughput counts every event whose
 * append completed, over the time until the last in-flight call returned.
 */
export async function runAppendShape(
  shape: AppendShape,
  append: AppendCall,
  opts: AppendRunOptions,
): Promise<Omit<AppendRound, 'cpu'>> {
  const latencies: number[] = [];
  let events = 0;
  let calls = 0;
  const started = nowMs();
  const deadline = started + opts.durationMs;

  const writer = async (w: number): Promise<void> => {
    let streamNo = 0;
    let version = 0;
    let worker = `bench-${opts.tag}-${shapeKey(shape)}-w${w}-s${streamNo}`;
    let templates = streamTemplates(worker);
    while (nowMs() < deadline) {
      if (version >= opts.eventsPerStream) {
        streamNo++;
        version = 0;
        worker = `bench-${opts.tag}-${shapeKey(shape)}-w${w}-s${streamNo}`;
        templates = streamTemplates(worker);
      }
      const batch = buildBatch(templates, version, shape.batchSize);
      const t0 = nowMs();
      await append(workerStream(worker), batch, version);
      latencies.push(Math.round((nowMs() - t0) * 1000) / 1000);
      version += batch.length;
      events += batch.length;
      calls++;
    }
  };
  await Promise.all(Array.from({ length: shape.writers }, (_, w) => writer(w)));
  const elapsedMs = nowMs() - started;
  return { ...shape, events, appendCalls: calls, elapsedMs, callLatenciesMs: latencies };
}

export interface CatchUpResult {
  /** Events (messages) returned by the reads, duplicates included. */
  events: number;
  /** Distinct event ids among them. */
  distinctEvents: number;
  /** Events of the log inside the range read that no read returned. */
  skipped: number;
  /** Events in the log when the read started. */
  logEvents: number;
  batches: number;
  batchSize: number;
  elapsedMs: number;
  eventsPerSec: number;
  /** True when the read was stopped at the time cap before reaching the end of the log. */
  capped: boolean;
  cpu?: CpuPerEvent;
}

/** The operations both store phases (ours, Emmett) serve to the orchestrator. */
export interface StoreOpenArgs {
  databaseUrl: string;
  poolSize: number;
}
export interface StoreOpenResult {
  /** Schema creation before any measurement (migrations / Emmett's auto-migration). */
  migrateMs: number;
  version: string;
}
export interface AppendShapeArgs {
  shape: AppendShape;
  durationMs: number;
  eventsPerStream: number;
  tag: string;
}
export interface ReadAllArgs {
  batchSize: number;
  /** Stop after this long and report the rate so far (0 = no cap). */
  capMs: number;
}
