// A durable JetStream pull consumer for events, with the failure handling every Fleetvisor
// subscriber needs: contract validation of every message, dead-lettering of malformed and poison
// messages (logged once, then terminated so the stream keeps flowing), nak with capped exponential
// backoff when the handler throws, and an idempotency guard so a redelivered event whose handling
// completed is acked without running the handler again.
import {
  AckPolicy,
  DeliverPolicy,
  ReplayPolicy,
  nanos,
  millis,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgHdrs,
  type NatsConnection,
} from 'nats';
import { fleetEvents, type EventCatalog, type EventEnvelope, type Subjects } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { backoffDelay, Sleeper, validateBackoff, type BackoffOptions } from './backoff';
import { publishDeadLetter, type DeadLetterKind } from './dead-letter';
import { MemoryIdempotencyGuard, type IdempotencyGuard } from './idempotency';
import { anySubjectMatches, versionAtLeast } from './subject-match';

export interface EventContext {
  subject: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  streamSequence: number;
  consumer: string;
  headers: MsgHdrs | undefined;
  logger: Logger;
  /** Resets the ack-wait timer for a long-running handler. */
  extendAckDeadline(): void;
}

export type EventHandler = (event: EventEnvelope, ctx: EventContext) => Promise<void>;

export interface EventConsumerOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** JetStream stream of events (config `eventStreamName`). */
  streamName: string;
  /** Durable consumer name: letters, digits, `_`, `-`. Replicas using the same name share the work. */
  name: string;
  /** Subject filter(s), built with `subjects.eventFilter(...)`; none = every event. */
  filter?: string | readonly string[];
  handler: EventHandler;
  logger: Logger;
  /** Deliveries before a failing event is dead-lettered (default 5). */
  maxDeliver?: number;
  /** Delay before redelivery after a handler error, by delivery count (default 500 ms doubling to 30 s). */
  retryBackoff?: BackoffOptions;
  /** Messages pulled and buffered at once (default 64). Bounds memory and in-flight work. */
  batchSize?: number;
  /** Redelivery when neither ack nor nak arrives in time (default 30 s). */
  ackWaitMs?: number;
  /** Unacked messages the server lets this consumer hold (default 1000). */
  maxAckPending?: number;
  /** Default: an in-memory LRU of the last 10 000 ids. `false` disables. */
  idempotency?: IdempotencyGuard | false;
  /** Where a new durable starts: every stored event (default) or only new ones. */
  deliverPolicy?: 'all' | 'new';
  /** Validation catalog (default the full fleetEvents catalog). */
  catalog?: Pick<EventCatalog, 'parse'>;
  /** Default `subjects.deadLetter(name)`. */
  deadLetterSubject?: string;
  /**
   * How long one pull request waits at the server, and how often the server sends an idle
   * heartbeat on it (defaults in the constructor); two missed heartbeats make the client pull again. A pull
   * waiting at a consumer leader that died is lost without a word: these bound how long the
   * consumer stays deaf after a NATS node dies to about two heartbeats after a new leader is
   * elected (with nats.js's defaults, two of its much longer heartbeats: docs/reliability.md).
   */
  pullExpiresMs?: number;
  pullHeartbeatMs?: number;
}

export interface EventConsumerMetrics {
  received: number;
  handled: number;
  handlerErrors: number;
  deadLettered: number;
  malformed: number;
  duplicatesSkipped: number;
  filteredOut: number;
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,200}$/;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isConsumerNotFound(e: unknown): boolean {
  const err = e as { api_error?: { err_code?: number }; message?: string };
  return err?.api_error?.err_code === 10014 || /consumer not found/i.test(err?.message ?? '');
}

export class EventConsumer {
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private readonly subjects: Subjects;
  private readonly streamName: string;
  readonly name: string;
  private readonly filters: string[];
  private readonly handler: EventHandler;
  private readonly log: Logger;
  private readonly maxDeliver: number;
  private readonly retryBackoff: BackoffOptions;
  private readonly batchSize: number;
  private readonly pullExpiresMs: number;
  private readonly pullHeartbeatMs: number;
  private readonly ackWaitMs: number;
  private readonly maxAckPending: number;
  private readonly guard: IdempotencyGuard | undefined;
  private readonly deliverPolicy: 'all' | 'new';
  private readonly catalog: Pick<EventCatalog, 'parse'>;
  private readonly deadLetterSubject: string;
  private readonly pause = new Sleeper();
  private readonly counters: EventConsumerMetrics = {
    received: 0,
    handled: 0,
    handlerErrors: 0,
    deadLettered: 0,
    malformed: 0,
    duplicatesSkipped: 0,
    filteredOut: 0,
  };
  /** Filters the server does not apply (several filters on a server < 2.10): checked here. */
  private clientFilters: string[] = [];
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;

  constructor(opts: EventConsumerOptions) {
    if (!NAME_PATTERN.test(opts.name)) throw new Error(`EventConsumer: invalid durable name "${opts.name}" (letters, digits, _ and - only)`);
    this.nc = opts.nc;
    this.js = opts.nc.jetstream();
    this.subjects = opts.subjects;
    this.streamName = opts.streamName;
    this.name = opts.name;
    this.filters = opts.filter === undefined ? [] : typeof opts.filter === 'string' ? [opts.filter] : [...opts.filter];
    this.handler = opts.handler;
    this.log = opts.logger.child({ component: 'event-consumer', consumer: opts.name });
    this.maxDeliver = opts.maxDeliver ?? 5;
    this.retryBackoff = opts.retryBackoff ?? { initialMs: 500, maxMs: 30_000 };
    this.batchSize = opts.batchSize ?? 64;
    this.pullExpiresMs = opts.pullExpiresMs ?? 5_000;
    this.pullHeartbeatMs = opts.pullHeartbeatMs ?? 1_000;
    this.ackWaitMs = opts.ackWaitMs ?? 30_000;
    this.maxAckPending = opts.maxAckPending ?? 1_000;
    this.guard = opts.idempotency === false ? undefined : (opts.idempotency ?? new MemoryIdempotencyGuard());
    this.deliverPolicy = opts.deliverPolicy ?? 'all';
    this.catalog = opts.catalog ?? fleetEvents;
    this.deadLetterSubject = opts.deadLetterSubject ?? opts.subjects.deadLetter(opts.name);
    if (!Number.isInteger(this.maxDeliver) || this.maxDeliver < 1) throw new Error('EventConsumer: maxDeliver must be an integer >= 1');
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000) {
      throw new Error('EventConsumer: batchSize must be an integer in 1..10000');
    }
    if (!(this.ackWaitMs >= 1_000)) throw new Error('EventConsumer: ackWaitMs must be >= 1000');
    if (!(Number.isInteger(this.pullExpiresMs) && this.pullExpiresMs >= 1_000 && this.pullExpiresMs <= 60_000)) throw new Error('EventConsumer: pullExpiresMs must be an integer in 1000..60000');
    if (!(Number.isInteger(this.pullHeartbeatMs) && this.pullHeartbeatMs >= 500 && this.pullHeartbeatMs <= this.pullExpiresMs / 2)) throw new Error('EventConsumer: pullHeartbeatMs must be an integer from 500 to half of pullExpiresMs');
    validateBackoff(this.retryBackoff, 'EventConsumer');
  }

  /** Creates or updates the durable consumer, then starts pulling. Resolves once set up. */
  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    const jsm = await this.nc.jetstreamManager();
    await this.ensureDurable(jsm);
    const consumer = await this.js.consumers.get(this.streamName, this.name);
    this.log.info({ stream: this.streamName, filters: this.filters, clientSideFilters: this.clientFilters.length > 0 }, 'event consumer started');
    this.loop = this.run(consumer).catch((e) => this.log.error({ err: e }, 'event consumer loop ended unexpectedly'));
  }

  /**
   * Stops pulling, finishes the event being handled (its ack is sent), hands buffered ones back to
   * the server at once (nak) so another replica can take them.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.pause.interrupt();
    await this.messages?.close().catch(() => undefined);
    const loop = this.loop;
    this.loop = undefined;
    await loop;
    this.messages = undefined;
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
    this.log.info('event consumer stopped');
  }

  metrics(): EventConsumerMetrics {
    return { ...this.counters };
  }

  /** Removes the durable consumer from the server (its position is lost). */
  async delete(): Promise<void> {
    const jsm = await this.nc.jetstreamManager();
    await jsm.consumers.delete(this.streamName, this.name).catch((e) => {
      if (!isConsumerNotFound(e)) throw e;
    });
  }

  private async ensureDurable(jsm: JetStreamManager): Promise<void> {
    const multiFilterOnServer = versionAtLeast(this.nc.info?.version, [2, 10, 0]);
    const cfg: Partial<ConsumerConfig> = {
      durable_name: this.name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: this.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
      replay_policy: ReplayPolicy.Instant,
      ack_wait: nanos(this.ackWaitMs),
      // Redelivery limits are enforced here (dead-letter with the last error), not by the server,
      // which would silently drop the message after max_deliver.
      max_deliver: -1,
      max_ack_pending: this.maxAckPending,
      description: `Fleetvisor event consumer ${this.name}`,
    };
    this.clientFilters = [];
    if (this.filters.length === 1) cfg.filter_subject = this.filters[0];
    else if (this.filters.length > 1) {
      if (multiFilterOnServer) cfg.filter_subjects = this.filters;
      else this.clientFilters = this.filters;
    }
    let existing: ConsumerInfo | undefined;
    try {
      existing = await jsm.consumers.info(this.streamName, this.name);
    } catch (e) {
      if (!isConsumerNotFound(e)) throw e;
    }
    if (!existing) {
      await jsm.consumers.add(this.streamName, cfg);
      return;
    }
    const c = existing.config;
    const sameFilters =
      (c.filter_subject ?? '') === (cfg.filter_subject ?? '') &&
      JSON.stringify([...(c.filter_subjects ?? [])].sort()) === JSON.stringify([...(cfg.filter_subjects ?? [])].sort());
    const differs =
      !sameFilters ||
      c.ack_policy !== AckPolicy.Explicit ||
      millis(c.ack_wait ?? 0) !== this.ackWaitMs ||
      c.max_ack_pending !== this.maxAckPending ||
      c.max_deliver !== -1;
    if (!differs) return;
    if (c.ack_policy !== AckPolicy.Explicit) {
      throw new Error(`consumer ${this.name} on ${this.streamName} exists with ack policy ${c.ack_policy}; delete it first`);
    }
    try {
      await jsm.consumers.update(this.streamName, this.name, {
        ack_wait: cfg.ack_wait,
        max_ack_pending: cfg.max_ack_pending,
        max_deliver: -1,
        ...(cfg.filter_subject !== undefined || c.filter_subject ? { filter_subject: cfg.filter_subject ?? '' } : {}),
        ...(cfg.filter_subjects !== undefined ? { filter_subjects: cfg.filter_subjects } : {}),
      });
      this.log.info('durable consumer configuration updated');
    } catch (e) {
      throw new Error(`cannot update consumer ${this.name} on ${this.streamName} (filter changes need NATS 2.10; delete the consumer to recreate it): ${errorText(e)}`);
    }
  }

  private async run(consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>>): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        const messages = await consumer.consume({ max_messages: this.batchSize, expires: this.pullExpiresMs, idle_heartbeat: this.pullHeartbeatMs });
        this.messages = messages;
        if (this.stopping) {
          await messages.close();
          break;
        }
        for await (const m of messages) {
          attempt = 0;
          if (this.stopping) {
            m.nak();
            continue;
          }
          await this.process(m);
        }
      } catch (e) {
        if (this.stopping) break;
        attempt++;
        this.log.warn({ err: errorText(e), attempt }, 'event consumer pull failed; retrying');
        await this.pause.sleep(backoffDelay(attempt, { initialMs: 250, maxMs: 5_000 }));
        continue;
      }
      if (!this.stopping) {
        // The iterator ended without stop() (consumer deleted, connection closed): start again.
        attempt++;
        this.log.warn({ attempt }, 'event consumer pull ended; resubscribing');
        await this.pause.sleep(backoffDelay(attempt, { initialMs: 250, maxMs: 5_000 }));
      }
    }
  }

  /** Handles one message to its end: ack, nak with delay, or dead-letter + term. Never throws. */
  private async process(m: JsMsg): Promise<void> {
    this.counters.received++;
    const deliveries = m.info.deliveryCount;
    if (this.clientFilters.length > 0 && !anySubjectMatches(this.clientFilters, m.subject)) {
      this.counters.filteredOut++;
      m.ack();
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(Buffer.from(m.data).toString('utf8'));
    } catch (e) {
      await this.deadLetter(m, 'malformed', `invalid JSON: ${errorText(e)}`);
      return;
    }
    const parsed = this.catalog.parse(raw);
    if (!parsed.ok) {
      await this.deadLetter(m, 'malformed', parsed.reason);
      return;
    }
    const event = parsed.value;
    let expectedSubject: string;
    try {
      expectedSubject = this.subjects.event(event.stream, event.type);
    } catch (e) {
      await this.deadLetter(m, 'malformed', errorText(e), event.id);
      return;
    }
    if (expectedSubject !== m.subject) {
      await this.deadLetter(m, 'malformed', `subject ${m.subject} does not match the envelope (expected ${expectedSubject})`, event.id);
      return;
    }
    try {
      if (this.guard && (await this.guard.isDone(event.id))) {
        this.counters.duplicatesSkipped++;
        this.log.debug({ eventId: event.id, deliveries }, 'event already handled; acked without handling');
        m.ack();
        return;
      }
    } catch (e) {
      this.counters.handlerErrors++;
      this.log.warn({ eventId: event.id, err: errorText(e) }, 'idempotency guard failed; will retry');
      m.nak(backoffDelay(deliveries, this.retryBackoff));
      return;
    }
    if (deliveries > this.maxDeliver) {
      await this.deadLetter(m, 'handler_failed', `delivered ${deliveries} times without completing (ack timeouts or crashes)`, event.id);
      return;
    }
    const ctx: EventContext = {
      subject: m.subject,
      deliveryCount: deliveries,
      redelivered: m.redelivered,
      streamSequence: m.info.streamSequence,
      consumer: this.name,
      headers: m.headers,
      logger: this.log.child({ eventId: event.id, type: event.type }),
      extendAckDeadline: () => m.working(),
    };
    try {
      await this.handler(event, ctx);
    } catch (e) {
      this.counters.handlerErrors++;
      if (deliveries >= this.maxDeliver) {
        await this.deadLetter(m, 'handler_failed', `handler failed ${deliveries} times, last error: ${errorText(e)}`, event.id);
        return;
      }
      const delay = backoffDelay(deliveries, this.retryBackoff);
      this.log.warn({ eventId: event.id, type: event.type, deliveries, retryInMs: delay, err: errorText(e) }, 'event handler failed; redelivering later');
      m.nak(delay);
      return;
    }
    try {
      await this.guard?.markDone(event.id);
    } catch (e) {
      this.log.warn({ eventId: event.id, err: errorText(e) }, 'idempotency guard could not record a handled event');
    }
    this.counters.handled++;
    m.ack();
  }

  private async deadLetter(m: JsMsg, kind: DeadLetterKind, reason: string, eventId?: string): Promise<void> {
    const deliveries = m.info.deliveryCount;
    try {
      await publishDeadLetter(this.js, this.deadLetterSubject, m.data, {
        kind,
        reason,
        originalSubject: m.subject,
        consumer: this.name,
        stream: m.info.stream,
        streamSequence: m.info.streamSequence,
        deliveries,
        ...(eventId !== undefined ? { eventId } : {}),
      });
    } catch (e) {
      // Not parked yet: keep the message and try again later rather than lose it.
      const delay = backoffDelay(deliveries, this.retryBackoff);
      this.log.error({ subject: m.subject, reason, err: errorText(e), retryInMs: delay }, 'dead-letter publish failed; message kept for retry');
      m.nak(delay);
      return;
    }
    if (kind === 'malformed') this.counters.malformed++;
    this.counters.deadLettered++;
    this.log.warn(
      { subject: m.subject, reason, kind, streamSequence: m.info.streamSequence, deliveries, deadLetterSubject: this.deadLetterSubject, ...(eventId ? { eventId } : {}) },
      kind === 'malformed' ? 'malformed message dead-lettered' : 'event dead-lettered after repeated handler failures',
    );
    // Plain +TERM: a reason suffix is only understood by NATS >= 2.10.4.
    m.term();
  }
}
