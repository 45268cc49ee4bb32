// The outbox relay: the Postgres log is the outbox. One relay across all processes (a Postgres
// advisory lock elects it; the others stand by and retry) reads the log in global order from its
// checkpoint and publishes each event to JetStream with Nats-Msg-Id = event id. The checkpoint
// moves only after every PubAck of a batch, so a crash, a lost lock or a NATS outage can only cause
// republishing, which the stream's duplicate window drops: nothing lost, nothing doubled.
import { headers, type JetStreamClient, type PubAck } from 'nats';
import type { EventEnvelope, RecordedEvent, Subjects } from '@fleetvisor/contracts';
import type { CheckpointStore, EventStore, LeaderLock } from '@fleetvisor/event-store/core';
import type { Logger } from '@fleetvisor/platform';
import { backoffDelay, Sleeper, validateBackoff, type BackoffOptions } from './backoff';
import { publishDeadLetter } from './dead-letter';

/** Headers the relay sets on every event message (besides Nats-Msg-Id). */
export const EventHeaders = {
  type: 'Fleet-Event-Type',
  stream: 'Fleet-Stream',
  streamVersion: 'Fleet-Stream-Version',
  checkpoint: 'Fleet-Checkpoint',
} as const;

/** The store's optional in-process wake-up hook (PostgresEventStore has it). */
export interface AppendNotifier {
  onAppended(listener: () => void): (() => void) | void;
}

export interface OutboxRelayOptions {
  store: EventStore & Partial<AppendNotifier>;
  checkpoints: CheckpointStore;
  lock: LeaderLock;
  js: JetStreamClient;
  subjects: Subjects;
  /** JetStream stream the events must land in (the publish fails if another stream captures the subject). */
  streamName: string;
  logger: Logger;
  /** Checkpoint name (default 'relay'). */
  checkpointName?: string;
  /** Events read and published per batch, in flight at once (default 256, max 4096). */
  batchSize?: number;
  /** Poll interval when the log is idle and no wake-up came (default 20 ms). */
  idleIntervalMs?: number;
  /** How often a standby retries the lock (default 1000 ms; must be <= 1000 for the 5 s takeover). */
  standbyRetryMs?: number;
  /** PubAck timeout per message (default 5000 ms). */
  publishTimeoutMs?: number;
  /** Retry backoff after a failed batch (default 100 ms doubling to 5 s). */
  retryBackoff?: BackoffOptions;
}

export interface OutboxRelayStatus {
  running: boolean;
  leader: boolean;
  /** Last checkpoint saved by this relay while leader (undefined before the first load). */
  checkpoint: string | undefined;
  /** Events published by this process (PubAck received, including duplicates). */
  published: number;
  lastError: string | undefined;
  consecutiveFailures: number;
}

export interface OutboxRelayMetrics {
  /** PubAcks for new messages. */
  published: number;
  /** PubAcks flagged duplicate (republished after a retry or failover). */
  duplicates: number;
  batches: number;
  publishFailures: number;
  readFailures: number;
  checkpointFailures: number;
  lockErrors: number;
  leaderAcquired: number;
  leaderLost: number;
  deadLettered: number;
}

export const DEFAULT_RELAY_LOCK_NAME = 'fleetvisor:relay';
const MAX_BATCH = 4_096;

/** The envelope as it travels on the bus: exactly the contract's fields, nothing of the log's. */
export function toEnvelope(e: RecordedEvent | EventEnvelope): EventEnvelope {
  return {
    id: e.id,
    type: e.type,
    stream: e.stream,
    version: e.version,
    data: e.data,
    metadata: e.metadata,
    occurredAt: e.occurredAt,
  };
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return code !== undefined && !e.message.includes(String(code)) ? `${e.message} (${String(code)})` : e.message;
  }
  return String(e);
}

export class OutboxRelay {
  private readonly store: OutboxRelayOptions['store'];
  private readonly checkpoints: CheckpointStore;
  private readonly lock: LeaderLock;
  private readonly js: JetStreamClient;
  private readonly subjects: Subjects;
  private readonly streamName: string;
  private readonly log: Logger;
  private readonly checkpointName: string;
  private readonly batchSize: number;
  private readonly idleIntervalMs: number;
  private readonly standbyRetryMs: number;
  private readonly publishTimeoutMs: number;
  private readonly retryBackoff: BackoffOptions;
  /** Idle wait: ended by an append, the poll interval, lock loss or stop. */
  private readonly idle = new Sleeper();
  /** Standby and retry waits: ended only by time, lock loss or stop (appends must not defeat backoff). */
  private readonly pause = new Sleeper();
  private readonly counters: OutboxRelayMetrics = {
    published: 0,
    duplicates: 0,
    batches: 0,
    publishFailures: 0,
    readFailures: 0,
    checkpointFailures: 0,
    lockErrors: 0,
    leaderAcquired: 0,
    leaderLost: 0,
    deadLettered: 0,
  };
  private loop: Promise<void> | undefined;
  private stopping = false;
  private leader = false;
  private checkpoint: string | undefined;
  private lastError: string | undefined;
  private failures = 0;
  private unsubscribeAppended: (() => void) | undefined;

  constructor(opts: OutboxRelayOptions) {
    this.store = opts.store;
    this.checkpoints = opts.checkpoints;
    this.lock = opts.lock;
    this.js = opts.js;
    this.subjects = opts.subjects;
    this.streamName = opts.streamName;
    this.log = opts.logger.child({ component: 'outbox-relay' });
    this.checkpointName = opts.checkpointName ?? 'relay';
    this.batchSize = opts.batchSize ?? 256;
    this.idleIntervalMs = opts.idleIntervalMs ?? 20;
    this.standbyRetryMs = opts.standbyRetryMs ?? 1_000;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? 5_000;
    this.retryBackoff = opts.retryBackoff ?? { initialMs: 100, maxMs: 5_000, jitter: 0.2 };
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > MAX_BATCH) {
      throw new Error(`OutboxRelay: batchSize must be an integer in 1..${MAX_BATCH}, got ${this.batchSize}`);
    }
    if (!(this.idleIntervalMs > 0)) throw new Error('OutboxRelay: idleIntervalMs must be > 0');
    if (!(this.standbyRetryMs > 0 && this.standbyRetryMs <= 1_000)) throw new Error('OutboxRelay: standbyRetryMs must be in (0, 1000]');
    validateBackoff(this.retryBackoff, 'OutboxRelay');
    this.lock.onLost(() => {
      if (!this.leader) return;
      this.leader = false;
      this.counters.leaderLost++;
      this.log.warn('relay lock lost; stopped publishing, standing by');
      this.idle.interrupt();
      this.pause.interrupt();
    });
  }

  /** Starts the loop (returns at once). Idempotent. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    if (typeof this.store.onAppended === 'function') {
      const off = this.store.onAppended(() => this.idle.interrupt());
      this.unsubscribeAppended = typeof off === 'function' ? off : undefined;
    }
    this.log.info({ checkpointName: this.checkpointName, stream: this.streamName, batchSize: this.batchSize }, 'outbox relay starting');
    this.loop = this.run().catch((e) => {
      // run() catches everything itself; this is a last resort so a bug never becomes an unhandled rejection.
      this.lastError = errorText(e);
      this.log.error({ err: e }, 'outbox relay loop ended unexpectedly');
    });
  }

  /** Stops publishing, waits for the batch in flight, releases the lock. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.idle.interrupt();
    this.pause.interrupt();
    const loop = this.loop;
    this.loop = undefined;
    await loop;
    this.unsubscribeAppended?.();
    this.unsubscribeAppended = undefined;
    if (this.leader || this.lock.held) {
      this.leader = false;
      await this.lock.release().catch((e) => this.log.warn({ err: e }, 'relay lock release failed'));
    }
    this.log.info({ checkpoint: this.checkpoint }, 'outbox relay stopped');
  }

  status(): OutboxRelayStatus {
    return {
      running: this.loop !== undefined,
      leader: this.leader,
      checkpoint: this.checkpoint,
      published: this.counters.published + this.counters.duplicates,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
    };
  }

  metrics(): OutboxRelayMetrics {
    return { ...this.counters };
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (!this.leader || !this.lock.held) {
        if (this.leader) {
          // held went false without onLost (e.g. released underneath us)
          this.leader = false;
          this.counters.leaderLost++;
          this.log.warn('relay lock no longer held; standing by');
        }
        if (!(await this.tryBecomeLeader())) {
          await this.pause.sleep(this.standbyRetryMs);
          continue;
        }
      }
      await this.step();
    }
  }

  private async tryBecomeLeader(): Promise<boolean> {
    let acquired: boolean;
    try {
      acquired = await this.lock.tryAcquire();
    } catch (e) {
      this.counters.lockErrors++;
      this.noteError('lock', e);
      return false;
    }
    if (!acquired || this.stopping) {
      if (acquired) await this.lock.release().catch(() => undefined);
      return false;
    }
    // Load the checkpoint fresh: a previous leader may have moved it.
    for (let attempt = 1; !this.stopping && this.lock.held; attempt++) {
      try {
        this.checkpoint = await this.checkpoints.load(this.checkpointName);
        break;
      } catch (e) {
        this.counters.checkpointFailures++;
        this.noteError('checkpoint load', e);
        await this.pause.sleep(backoffDelay(attempt, this.retryBackoff));
      }
    }
    if (this.stopping || !this.lock.held || this.checkpoint === undefined) return false;
    this.leader = true;
    this.counters.leaderAcquired++;
    this.log.info({ checkpoint: this.checkpoint }, 'relay is leader; publishing from checkpoint');
    return true;
  }

  /** One read-publish-save round. Never throws. */
  private async step(): Promise<void> {
    const from = this.checkpoint!;
    let events: RecordedEvent[];
    let next: string;
    try {
      const r = await this.store.readAll(from, this.batchSize);
      events = r.events;
      next = r.checkpoint;
    } catch (e) {
      this.counters.readFailures++;
      await this.fail('read', e);
      return;
    }
    if (events.length === 0) {
      await this.idle.sleep(this.idleIntervalMs);
      return;
    }
    try {
      await this.publishBatch(events);
    } catch (e) {
      this.counters.publishFailures++;
      await this.fail('publish', e);
      return;
    }
    // Never move the checkpoint after losing the role: the new leader owns it now.
    if (!this.leader || !this.lock.held) return;
    try {
      await this.checkpoints.save(this.checkpointName, next);
    } catch (e) {
      this.counters.checkpointFailures++;
      await this.fail('checkpoint save', e);
      return;
    }
    this.checkpoint = next;
    this.counters.batches++;
    if (this.failures > 0) this.log.info({ afterFailures: this.failures, checkpoint: next }, 'outbox relay recovered');
    this.failures = 0;
    this.log.debug({ count: events.length, checkpoint: next }, 'batch published');
  }

  /** Publishes a batch pipelined; resolves once every event has its PubAck, else throws the first error. */
  private async publishBatch(events: readonly RecordedEvent[]): Promise<void> {
    const results = await Promise.allSettled(events.map((e) => this.publishOne(e)));
    let firstError: unknown;
    let failed = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') {
        if (r.value === 'duplicate') this.counters.duplicates++;
        else if (r.value === 'published') this.counters.published++;
        else this.counters.deadLettered++;
      } else {
        failed++;
        firstError ??= r.reason;
      }
    }
    if (failed > 0) {
      const err = new Error(`${failed} of ${events.length} publishes failed: ${errorText(firstError)}`);
      (err as Error & { cause?: unknown }).cause = firstError;
      throw err;
    }
  }

  private async publishOne(e: RecordedEvent): Promise<'published' | 'duplicate' | 'dead-lettered'> {
    const payload = Buffer.from(JSON.stringify(toEnvelope(e)));
    let subject: string;
    try {
      subject = this.subjects.event(e.stream, e.type);
    } catch (err) {
      // Cannot happen for events validated at append; if it does, park it rather than block the log.
      this.log.error({ eventId: e.id, stream: e.stream, type: e.type, err }, 'event has no valid subject; dead-lettered');
      await publishDeadLetter(this.js, this.subjects.deadLetter('relay'), payload, {
        kind: 'unpublishable',
        reason: errorText(err),
        originalSubject: '',
        consumer: 'relay',
        eventId: e.id,
      }, { timeoutMs: this.publishTimeoutMs });
      return 'dead-lettered';
    }
    const h = headers();
    h.set(EventHeaders.type, e.type);
    h.set(EventHeaders.stream, e.stream);
    h.set(EventHeaders.streamVersion, String(e.streamVersion));
    h.set(EventHeaders.checkpoint, e.checkpoint);
    const ack: PubAck = await this.js.publish(subject, payload, {
      msgID: e.id,
      headers: h,
      timeout: this.publishTimeoutMs,
      expect: { streamName: this.streamName },
    });
    return ack.duplicate ? 'duplicate' : 'published';
  }

  private noteError(what: string, e: unknown): void {
    this.lastError = `${what}: ${errorText(e)}`;
    this.failures++;
    const level = this.failures === 1 || this.failures % 10 === 0 ? 'warn' : 'debug';
    this.log[level]({ err: errorText(e), consecutiveFailures: this.failures }, `outbox relay ${what} failed; will retry`);
  }

  private async fail(what: string, e: unknown): Promise<void> {
    this.noteError(what, e);
    await this.pause.sleep(backoffDelay(this.failures, this.retryBackoff));
  }
}
