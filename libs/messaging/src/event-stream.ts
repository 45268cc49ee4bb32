// JetStream streams Fleetvisor owns: the event stream (every event the relay publishes), the
// dead-letter stream (malformed and poison messages) and the key-revocation KV bucket. Created and
// updated by `fleetvisor migrate` only (ensureFleetStreams, with the admin NATS credential);
// services check they exist at start (checkFleetStreams) and never create, update or purge them.
import {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  nanos,
  millis,
  type JetStreamManager,
  type NatsConnection,
  type StreamConfig,
  type StreamInfo,
} from 'nats';
import type { Logger } from '@fleetvisor/platform';

/** The deduplication window must outlive any retry of the relay (minimum 2 minutes). */
export const MIN_DUPLICATE_WINDOW_MS = 120_000;
export const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60_000;
export const DEFAULT_DEAD_LETTER_MAX_AGE_MS = 30 * 24 * 3_600_000;
/**
 * Storage and message-size limits. The log in Postgres is the record, so the stream only needs to
 * hold what consumers have not read yet; a bound keeps a flood of publishes from filling the
 * server's disk. An event is at most MAX_EVENT_BYTES (refused at append), so the event stream's
 * message limit leaves room for the relay's headers; the dead-letter stream keeps an offending
 * message whole (up to the server's max_payload), so it has a storage bound only.
 */
export const DEFAULT_EVENT_STREAM_MAX_BYTES = 8 * 1024 ** 3;
export const DEFAULT_EVENT_STREAM_MAX_MSG_SIZE = 512 * 1024;
export const DEFAULT_DEAD_LETTER_MAX_BYTES = 1024 ** 3;

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** 0 = keep forever. */
  maxAgeMs: number;
  duplicateWindowMs?: number;
  description?: string;
  /** Bytes the stream may hold; -1 = no limit (default). The oldest messages go first. */
  maxBytes?: number;
  /** Largest message the stream accepts; -1 = the server's max_payload (default). */
  maxMsgSize?: number;
  /** Copies kept across the nodes of a JetStream cluster (default 1; 3 rides out one node lost). */
  replicas?: number;
}

export interface EnsureStreamResult {
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  info: StreamInfo;
}

function isStreamNotFound(e: unknown): boolean {
  const err = e as { api_error?: { err_code?: number; code?: number }; message?: string };
  return err?.api_error?.err_code === 10059 || /stream not found/i.test(err?.message ?? '');
}

function sameSubjects(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((s, i) => s === y[i]);
}

/** Creates the stream, or brings an existing one to the given subjects, max age and duplicate window. */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec, logger?: Logger): Promise<EnsureStreamResult> {
  if (spec.subjects.length === 0) throw new Error(`stream ${spec.name}: needs at least one subject`);
  if (!(spec.maxAgeMs >= 0)) throw new Error(`stream ${spec.name}: maxAgeMs must be >= 0`);
  let duplicateWindowMs = spec.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  // JetStream refuses a duplicate window longer than the max age.
  if (spec.maxAgeMs > 0 && duplicateWindowMs > spec.maxAgeMs) duplicateWindowMs = spec.maxAgeMs;
  const wanted: Partial<StreamConfig> = {
    name: spec.name,
    subjects: spec.subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(spec.maxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
    max_bytes: spec.maxBytes ?? -1,
    max_msg_size: spec.maxMsgSize ?? -1,
    num_replicas: spec.replicas ?? 1,
    ...(spec.description ? { description: spec.description } : {}),
  };
  let current: StreamInfo | undefined;
  try {
    current = await jsm.streams.info(spec.name);
  } catch (e) {
    if (!isStreamNotFound(e)) throw e;
  }
  if (!current) {
    try {
      const info = await jsm.streams.add(wanted);
      logger?.info({ stream: spec.name, subjects: spec.subjects }, 'JetStream stream created');
      return { name: spec.name, action: 'created', info };
    } catch (e) {
      // Another process created it between our info and add: fall through to the update check.
      current = await jsm.streams.info(spec.name).catch(() => {
        throw e;
      });
    }
  }
  const cfg = current.config;
  if (cfg.storage !== StorageType.File) {
    throw new Error(`stream ${spec.name} exists with ${cfg.storage} storage; Fleetvisor needs file storage (delete or rename the stream)`);
  }
  const differs =
    !sameSubjects(cfg.subjects, spec.subjects) ||
    millis(cfg.max_age) !== spec.maxAgeMs ||
    millis(cfg.duplicate_window) !== duplicateWindowMs ||
    cfg.max_bytes !== wanted.max_bytes ||
    cfg.max_msg_size !== wanted.max_msg_size ||
    cfg.num_replicas !== wanted.num_replicas ||
    (spec.description !== undefined && cfg.description !== spec.description);
  if (!differs) return { name: spec.name, action: 'unchanged', info: current };
  const info = await jsm.streams.update(spec.name, {
    ...cfg,
    subjects: spec.subjects,
    max_age: nanos(spec.maxAgeMs),
    duplicate_window: nanos(duplicateWindowMs),
    max_bytes: wanted.max_bytes,
    max_msg_size: wanted.max_msg_size,
    num_replicas: wanted.num_replicas,
    ...(spec.description !== undefined ? { description: spec.description } : {}),
  });
  logger?.info(
    { stream: spec.name, subjects: spec.subjects, maxAgeMs: spec.maxAgeMs, duplicateWindowMs, maxBytes: wanted.max_bytes, maxMsgSize: wanted.max_msg_size, replicas: wanted.num_replicas },
    'JetStream stream configuration updated',
  );
  return { name: spec.name, action: 'updated', info };
}

export interface EventStreamOptions {
  /** Stream name (config `eventStreamName`, FLEET_EVENTS in production). */
  name: string;
  /** What the stream captures: `subjects.allEvents()`. */
  subjects: string | string[];
  maxAgeMs: number;
  /** >= 120000; default 10 minutes. Duplicate publishes (same Nats-Msg-Id) inside it are dropped. */
  duplicateWindowMs?: number;
  /** Default DEFAULT_EVENT_STREAM_MAX_BYTES. */
  maxBytes?: number;
  /** Default DEFAULT_EVENT_STREAM_MAX_MSG_SIZE. */
  maxMsgSize?: number;
  /** Copies across a JetStream cluster's nodes, for this stream and its dead letters (default 1). */
  replicas?: number;
  /**
   * Dead-letter stream. Default: `<name>_DLQ` capturing `<root>.dlq.>`, the root taken from
   * `subjects` (`<root>.evt.>`). `false` skips it.
   */
  deadLetter?: { name?: string; subjects?: string | string[]; maxAgeMs?: number; maxBytes?: number } | false;
}

export interface EnsureEventStreamResult {
  events: EnsureStreamResult;
  deadLetter?: EnsureStreamResult;
}

export function deadLetterStreamName(eventStreamName: string): string {
  return `${eventStreamName}_DLQ`;
}

/** Creates or updates the event stream (and its dead-letter stream) at start-up. */
export async function ensureEventStream(jsm: JetStreamManager, opts: EventStreamOptions, logger?: Logger): Promise<EnsureEventStreamResult> {
  const duplicateWindowMs = opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  if (duplicateWindowMs < MIN_DUPLICATE_WINDOW_MS) {
    throw new Error(`event stream ${opts.name}: duplicateWindowMs must be >= ${MIN_DUPLICATE_WINDOW_MS} (got ${duplicateWindowMs})`);
  }
  if (opts.maxAgeMs > 0 && opts.maxAgeMs < duplicateWindowMs) {
    throw new Error(`event stream ${opts.name}: maxAgeMs (${opts.maxAgeMs}) must be >= duplicateWindowMs (${duplicateWindowMs})`);
  }
  const events = await ensureStream(
    jsm,
    {
      name: opts.name,
      subjects: Array.isArray(opts.subjects) ? opts.subjects : [opts.subjects],
      maxAgeMs: opts.maxAgeMs,
      duplicateWindowMs,
      maxBytes: opts.maxBytes ?? DEFAULT_EVENT_STREAM_MAX_BYTES,
      maxMsgSize: opts.maxMsgSize ?? DEFAULT_EVENT_STREAM_MAX_MSG_SIZE,
      ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
      description: 'Fleetvisor events, published by the outbox relay from the Postgres log (Nats-Msg-Id = event id)',
    },
    logger,
  );
  if (opts.deadLetter === false) return { events };
  const dl = opts.deadLetter ?? {};
  let dlSubjects = dl.subjects;
  if (dlSubjects === undefined) {
    const first = Array.isArray(opts.subjects) ? opts.subjects[0] : opts.subjects;
    const m = /^([a-z][a-z0-9_]*)\.evt\.>$/.exec(first ?? '');
    if (!m) throw new Error(`event stream ${opts.name}: cannot derive dead-letter subjects from "${first}"; pass deadLetter.subjects`);
    dlSubjects = `${m[1]}.dlq.>`;
  }
  const deadLetter = await ensureStream(
    jsm,
    {
      name: dl.name ?? deadLetterStreamName(opts.name),
      subjects: Array.isArray(dlSubjects) ? dlSubjects : [dlSubjects],
      maxAgeMs: dl.maxAgeMs ?? DEFAULT_DEAD_LETTER_MAX_AGE_MS,
      duplicateWindowMs: MIN_DUPLICATE_WINDOW_MS,
      maxBytes: dl.maxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES,
      ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
      description: 'Fleetvisor dead letters: malformed bus messages and events a consumer could not handle',
    },
    logger,
  );
  return { events, deadLetter };
}

/** History kept per key of the `<root>_keys` bucket (key revocations, ADR 0006). */
export const KEYS_BUCKET_HISTORY = 64;

/** The KV bucket of signing-key revocations: `fleet_keys` for the root `fleet` (stream `KV_fleet_keys`); defined with the keys. */
export { keysBucketName } from '@fleetvisor/trust';
import { keysBucketName } from '@fleetvisor/trust';

/** Raised by a service that finds a stream missing: streams belong to `fleetvisor migrate`. */
export class FleetStreamsMissingError extends Error {
  constructor(readonly streams: readonly string[]) {
    super(
      `JetStream stream${streams.length > 1 ? 's' : ''} ${streams.join(', ')} not found on this NATS server: streams are created and updated by ` +
        '`fleetvisor migrate` (run it once with the admin NATS credential); services no longer create them',
    );
    this.name = 'FleetStreamsMissingError';
  }
}

export interface FleetStreamsOptions {
  /** Subject root (`fleet`): events `<root>.evt.>`, dead letters `<root>.dlq.>`, bucket `<root>_keys`. */
  subjectRoot: string;
  /** FLEET_EVENTS in production (config `eventStreamName`). */
  eventStreamName: string;
  eventStreamMaxAgeMs: number;
  duplicateWindowMs?: number;
  /** The key-revocation bucket; default keysBucketName(subjectRoot); false: none. */
  keysBucket?: string | false;
  /** Default DEFAULT_EVENT_STREAM_MAX_BYTES (test suites ask for less: JetStream reserves it on the server). */
  eventStreamMaxBytes?: number;
  /** Default DEFAULT_DEAD_LETTER_MAX_BYTES. */
  deadLetterMaxBytes?: number;
  /** Copies of every stream and of the bucket across a JetStream cluster (default 1). */
  replicas?: number;
}

export interface FleetStreamsResult {
  events: EnsureStreamResult;
  deadLetter: EnsureStreamResult;
  keys?: { name: string; stream: string; action: 'created' | 'updated' | 'unchanged' };
}

/**
 * What `fleetvisor migrate` does to JetStream (with the admin credential), and what test suites
 * do for their own root: the event stream, the dead-letter stream and the key-revocation bucket,
 * created or brought to this build's settings. The one place streams are created.
 */
export async function ensureFleetStreams(nc: NatsConnection, opts: FleetStreamsOptions, logger?: Logger): Promise<FleetStreamsResult> {
  const jsm = await nc.jetstreamManager();
  const { events, deadLetter } = await ensureEventStream(
    jsm,
    {
      name: opts.eventStreamName,
      subjects: `${opts.subjectRoot}.evt.>`,
      maxAgeMs: opts.eventStreamMaxAgeMs,
      ...(opts.duplicateWindowMs !== undefined ? { duplicateWindowMs: opts.duplicateWindowMs } : {}),
      ...(opts.eventStreamMaxBytes !== undefined ? { maxBytes: opts.eventStreamMaxBytes } : {}),
      ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
      deadLetter: { name: deadLetterStreamName(opts.eventStreamName), subjects: `${opts.subjectRoot}.dlq.>`, ...(opts.deadLetterMaxBytes !== undefined ? { maxBytes: opts.deadLetterMaxBytes } : {}) },
    },
    logger,
  );
  const result: FleetStreamsResult = { events, deadLetter: deadLetter! };
  const bucket = opts.keysBucket === undefined ? keysBucketName(opts.subjectRoot) : opts.keysBucket;
  if (bucket !== false) {
    const stream = `KV_${bucket}`;
    const current = await jsm.streams.info(stream).catch((e: unknown) => {
      if (isStreamNotFound(e)) return undefined;
      throw e;
    });
    if (!current) {
      await nc.jetstream().views.kv(bucket, { history: KEYS_BUCKET_HISTORY, storage: StorageType.File, replicas: opts.replicas ?? 1 });
      logger?.info({ bucket }, 'JetStream KV bucket created');
      result.keys = { name: bucket, stream, action: 'created' };
    } else if (current.config.max_msgs_per_subject !== KEYS_BUCKET_HISTORY || current.config.num_replicas !== (opts.replicas ?? 1)) {
      await jsm.streams.update(stream, { ...current.config, max_msgs_per_subject: KEYS_BUCKET_HISTORY, num_replicas: opts.replicas ?? 1 });
      logger?.info({ bucket, history: KEYS_BUCKET_HISTORY, replicas: opts.replicas ?? 1 }, 'JetStream KV bucket updated');
      result.keys = { name: bucket, stream, action: 'updated' };
    } else {
      result.keys = { name: bucket, stream, action: 'unchanged' };
    }
  }
  return result;
}

/**
 * What a service does at start instead of creating streams: checks the event and dead-letter
 * streams exist (STREAM.INFO, which every role may ask), else FleetStreamsMissingError.
 */
export async function checkFleetStreams(jsm: JetStreamManager, eventStreamName: string): Promise<void> {
  const missing: string[] = [];
  for (const name of [eventStreamName, deadLetterStreamName(eventStreamName)]) {
    try {
      await jsm.streams.info(name);
    } catch (e) {
      if (!isStreamNotFound(e)) throw e;
      missing.push(name);
    }
  }
  if (missing.length > 0) throw new FleetStreamsMissingError(missing);
}
