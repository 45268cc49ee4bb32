// What a long-running service says about itself on FLEETVISOR_HEALTH_LISTEN: readiness checks
// (its connections, plus any the app adds, e.g. "holds the chain's leader lock" is not one: a
// standby is ready) and a Prometheus registry the app adds its own figures to. FleetCore and the
// edge bus each own one and fill in what they know (Postgres, NATS, the outbox relay).
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { NatsConnection } from 'nats';
import type { Pool } from 'pg';
import { startHealthServer, type HealthServer, type Logger, type MetricsSource, type ReadinessCheck } from '@fleetvisor/platform';
import { parseCheckpoint, type PostgresEventStore } from '@fleetvisor/event-store/core';
import type { JetStreamManager } from 'nats';
import type { OutboxRelay } from './outbox-relay';
import { deadLetterStreamName } from './event-stream';

export class ServiceHealth {
  readonly registry = new Registry();
  private readonly checks: ReadinessCheck[] = [];
  private server: HealthServer | undefined;

  constructor(readonly service: string, opts: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ service });
    if (opts.defaultMetrics ?? true) processMetrics(this.registry);
  }

  addCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  get readinessChecks(): readonly ReadinessCheck[] {
    return this.checks;
  }

  metricsSource(): MetricsSource {
    return { contentType: this.registry.contentType, text: () => this.registry.metrics() };
  }

  /** Serves /health/live, /health/ready and /metrics on `listen`; a no-op when it is undefined. */
  async serve(listen: string | undefined, logger: Logger): Promise<HealthServer | undefined> {
    if (listen === undefined || this.server) return this.server;
    this.server = await startHealthServer({ listen, checks: this.checks, metrics: this.metricsSource(), logger });
    return this.server;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }
}

/**
 * prom-client's process and Node.js figures, under the standard names (process_*, nodejs_*) every
 * Node.js dashboard reads, less the three gauges it names `*_total` (active handles, requests,
 * resources): Prometheus reserves that suffix for counters and `promtool check metrics` refuses
 * them, and the same counts are in nodejs_active_*.
 */
export function processMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
}

/**
 * A Prometheus counter whose value is read from a count the code keeps anyway (reports handled,
 * events published), when Prometheus asks: typed `counter` (so rate() and promtool accept it), and
 * it only ever goes up, by the growth of the count since the last scrape.
 */
export function sampledCounter(opts: {
  registry: Registry;
  name: string;
  help: string;
  labelNames?: readonly string[];
  read: () => Iterable<readonly [Record<string, string>, number]>;
}): Counter {
  const last = new Map<string, number>();
  return new Counter({
    name: opts.name,
    help: opts.help,
    labelNames: opts.labelNames ?? [],
    registers: [opts.registry],
    collect() {
      for (const [labels, value] of opts.read()) {
        const key = JSON.stringify(labels);
        const grown = value - (last.get(key) ?? 0);
        if (grown > 0) this.inc(labels, grown);
        last.set(key, Math.max(value, last.get(key) ?? 0));
      }
    },
  });
}

/** NATS is ready when the connection is open and a round trip to the server completes. */
export function natsReadiness(nc: NatsConnection): ReadinessCheck {
  return {
    name: 'nats',
    async check() {
      if (nc.isClosed()) throw new Error('connection closed');
      await nc.flush();
    },
  };
}

/** Postgres is ready when the pool hands out a connection that answers. */
export function postgresReadiness(pool: Pool): ReadinessCheck {
  return {
    name: 'postgres',
    async check() {
      await pool.query('select 1');
    },
  };
}

/**
 * The outbox relay's figures: whether this process leads, what it published, its failures, and
 * how far it is behind the log (positions between the log's head and the relay's checkpoint: the
 * events written but not yet on the bus). The lag is read from the log when Prometheus asks, and
 * only by the leader (a standby publishes nothing, so it has no lag of its own).
 */
export function registerRelayMetrics(registry: Registry, relay: OutboxRelay, store: Pick<PostgresEventStore, 'headCheckpoint'>): void {
  new Gauge({
    name: 'fleetvisor_relay_leader',
    help: '1 when this process is the outbox relay publishing the log to the bus',
    registers: [registry],
    collect() {
      this.set(relay.status().leader ? 1 : 0);
    },
  });
  sampledCounter({
    registry,
    name: 'fleetvisor_relay_published_total',
    help: 'Events this process published to the bus (PubAck received), by outcome',
    labelNames: ['outcome'],
    read: () => {
      const m = relay.metrics();
      return [[{ outcome: 'new' }, m.published], [{ outcome: 'duplicate' }, m.duplicates], [{ outcome: 'dead_lettered' }, m.deadLettered]];
    },
  });
  sampledCounter({
    registry,
    name: 'fleetvisor_relay_failures_total',
    help: 'Relay failures since start, by kind',
    labelNames: ['kind'],
    read: () => {
      const m = relay.metrics();
      return [[{ kind: 'publish' }, m.publishFailures], [{ kind: 'read' }, m.readFailures], [{ kind: 'checkpoint' }, m.checkpointFailures], [{ kind: 'lock' }, m.lockErrors]];
    },
  });
  new Gauge({
    name: 'fleetvisor_relay_lag_events',
    help: 'Events in the log the relay has not yet published (leader only; 0 on a standby)',
    registers: [registry],
    async collect() {
      const s = relay.status();
      if (!s.leader || s.checkpoint === undefined) return this.set(0);
      const head = parseCheckpoint(await store.headCheckpoint()).globalPosition;
      const done = parseCheckpoint(s.checkpoint).globalPosition;
      this.set(head > done ? Number(head - done) : 0);
    },
  });
}

/**
 * What the bus holds for this process: messages set aside in the dead-letter stream (malformed or
 * unhandled events, for an operator to look at: `fleetvisor events dead-letters`), and what each of
 * this process's durable consumers has yet to take. Asked of JetStream when Prometheus scrapes.
 */
export function registerBusMetrics(registry: Registry, jsm: JetStreamManager, eventStream: string, consumers: () => readonly string[]): void {
  new Gauge({
    name: 'fleetvisor_dead_letters',
    help: 'Messages in the dead-letter stream (malformed bus messages, events a consumer could not handle)',
    registers: [registry],
    async collect() {
      const info = await jsm.streams.info(deadLetterStreamName(eventStream));
      this.set(info.state.messages);
    },
  });
  new Gauge({
    name: 'fleetvisor_consumer_pending',
    help: "Events of the stream a durable consumer of this process has not yet received, and those it received but not acknowledged",
    labelNames: ['consumer', 'kind'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const name of consumers()) {
        const info = await jsm.consumers.info(eventStream, name).catch(() => undefined);
        if (!info) continue;
        this.set({ consumer: name, kind: 'undelivered' }, info.num_pending);
        this.set({ consumer: name, kind: 'unacknowledged' }, info.num_ack_pending);
      }
    },
  });
}
