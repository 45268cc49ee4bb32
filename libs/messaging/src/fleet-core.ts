// Everything a Fleetvisor process needs to take part in the system, opened in one call: config,
// logger, NATS (checking the event and dead-letter streams exist: they belong to `fleetvisor
// migrate`, which an admin credential runs; a service never creates them), the event store (schema migrated
// or checked), the command bus, optionally the outbox relay. Plain class; FleetCoreModule is the
// NestJS shell around it, and non-Nest code (CLI, tests, benches) uses it directly.
import { natsReadiness, postgresReadiness, registerBusMetrics, registerRelayMetrics, ServiceHealth } from './service-health';
import type { Pool } from 'pg';
import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import { createSubjects, type Subjects } from '@fleetvisor/contracts';
import type { EventStoreConnection, PostgresCheckpointStore, PostgresEventStore, SchemaMigrations } from '@fleetvisor/event-store';
import { createLogger, readCoreConfig, redactUrl, type CoreConfig, type Logger } from '@fleetvisor/platform';
import { CommandBus, type CommandTrust } from './command-bus';
import { checkFleetStreams } from './event-stream';
import { EventConsumerFactory } from './event-consumer-factory';
import { connectNats } from './nats-connection';
import { DEFAULT_RELAY_LOCK_NAME, OutboxRelay, type OutboxRelayOptions } from './outbox-relay';

export type RelayTuning = Partial<Pick<OutboxRelayOptions, 'batchSize' | 'idleIntervalMs' | 'standbyRetryMs' | 'publishTimeoutMs' | 'retryBackoff' | 'checkpointName'>> & {
  /** Leader lock name (default 'fleetvisor:relay'). */
  lockName?: string;
};

export interface FleetCoreOptions {
  /** Process name: logger name and NATS connection name, e.g. 'worker-registry'. */
  serviceName: string;
  /** Default: readCoreConfig() (the FLEETVISOR_* environment). */
  config?: CoreConfig;
  /** Default: createLogger from the config. */
  logger?: Logger;
  /** Run the outbox relay in this process (it stands by while another process leads). */
  relay?: boolean | RelayTuning;
  /**
   * Event store schema at start-up: 'apply' runs pending migrations (serialized across processes
   * by an advisory lock; the default), 'verify' fails when any is pending, 'skip' does nothing.
   */
  migrations?: 'apply' | 'verify' | 'skip';
  /** The app's own schema migrations (its tables), applied or verified with the event store's. */
  schemaMigrations?: SchemaMigrations;
  /** Postgres pool size (default 10). */
  poolSize?: number;
  /** First NATS connection attempt timeout (default 3000 ms). */
  natsConnectTimeoutMs?: number;
  /** Signing and verification of commands (ADR 0006): the service's key and the fleet's trust roots. */
  commandTrust?: CommandTrust;
}

export { EventConsumerFactory };

export class MigrationsPendingError extends Error {
  constructor(databaseUrl: string) {
    super(`the event store schema of ${redactUrl(databaseUrl)} is behind this build: migrations are pending (start once with migrations 'apply')`);
    this.name = 'MigrationsPendingError';
  }
}

/** Opens the event store, applying or verifying the schema as asked. */
async function openStore(opts: FleetCoreOptions, config: CoreConfig, logger: Logger): Promise<EventStoreConnection> {
  const mode = opts.migrations ?? 'apply';
  // Loaded here, not at the top: the event store brings TypeORM, which a process that only imports
  // this module for its types or for the Nest transport (an edge process) must not pay for.
  const { openEventStore } = await import('@fleetvisor/event-store');
  const conn = await openEventStore(config, {
    migrate: mode === 'apply',
    ...(opts.schemaMigrations ? { migrations: opts.schemaMigrations } : {}),
    poolSize: opts.poolSize ?? 10,
    applicationName: `fleetvisor:${opts.serviceName}`.slice(0, 63),
    logger,
  });
  if (mode === 'verify') {
    let pending: boolean;
    try {
      pending = await conn.migrationsPending();
    } catch (e) {
      await conn.close();
      throw e;
    }
    if (pending) {
      await conn.close();
      throw new MigrationsPendingError(config.databaseUrl);
    }
  }
  return conn;
}

export class FleetCore {
  private closed = false;

  private constructor(
    readonly config: CoreConfig,
    readonly logger: Logger,
    readonly subjects: Subjects,
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly eventStore: EventStoreConnection,
    readonly pool: Pool,
    readonly store: PostgresEventStore,
    readonly checkpoints: PostgresCheckpointStore,
    readonly commands: CommandBus,
    readonly consumers: EventConsumerFactory,
    readonly relay: OutboxRelay | undefined,
    /** Readiness checks and metrics served on FLEETVISOR_HEALTH_LISTEN; apps add their own. */
    readonly health: ServiceHealth,
    private readonly ownsLogger: boolean,
  ) {}

  /** Connects everything; on any failure closes what was opened and rethrows. */
  static async open(opts: FleetCoreOptions): Promise<FleetCore> {
    const config = opts.config ?? readCoreConfig();
    const logger = opts.logger ?? createLogger({ name: opts.serviceName, level: config.logLevel, format: config.logFormat });
    const subjects = createSubjects(config.subjectRoot);
    const cleanups: (() => Promise<unknown>)[] = [];
    try {
      const eventStore = await openStore(opts, config, logger);
      cleanups.push(() => eventStore.close());
      const { store, checkpoints, pool } = eventStore;

      const nc = await connectNats(config, logger, {
        name: `fleetvisor:${opts.serviceName}@${config.host}`,
        ...(opts.natsConnectTimeoutMs !== undefined ? { connectTimeoutMs: opts.natsConnectTimeoutMs } : {}),
      });
      cleanups.push(() => nc.close());
      const jsm = await nc.jetstreamManager();
      const js = nc.jetstream();
      // Fails with "run `fleetvisor migrate`" when the streams are missing (FleetStreamsMissingError).
      await checkFleetStreams(jsm, config.eventStreamName);
      const commands = new CommandBus({ nc, subjects, logger, ...opts.commandTrust });
      const consumers = new EventConsumerFactory(nc, subjects, config.eventStreamName, logger);
      let relay: OutboxRelay | undefined;
      if (opts.relay) {
        const tuning: RelayTuning = opts.relay === true ? {} : opts.relay;
        const { lockName, ...relayTuning } = tuning;
        relay = new OutboxRelay({
          ...relayTuning,
          store,
          checkpoints,
          lock: eventStore.leaderLock(lockName ?? DEFAULT_RELAY_LOCK_NAME),
          js,
          subjects,
          streamName: config.eventStreamName,
          logger,
        });
      }
      const health = new ServiceHealth(opts.serviceName);
      health.addCheck(postgresReadiness(pool));
      health.addCheck(natsReadiness(nc));
      if (relay) registerRelayMetrics(health.registry, relay, store);
      registerBusMetrics(health.registry, jsm, config.eventStreamName, () => consumers.names());
      return new FleetCore(config, logger, subjects, nc, js, jsm, eventStore, pool, store, checkpoints, commands, consumers, relay, health, !opts.logger);
    } catch (e) {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
      throw e;
    }
  }

  /** Starts background work (the relay). */
  start(): void {
    this.relay?.start();
  }

  /** The health and metrics server on FLEETVISOR_HEALTH_LISTEN, when set (fails when the address is taken). */
  async serveHealth(): Promise<void> {
    await this.health.serve(this.config.healthListen, this.logger);
  }

  /** Stops consumers, the relay and command servers, drains NATS, closes the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        this.logger.warn({ err: e }, `shutdown: ${what} failed`);
      }
    };
    await step('health server', () => this.health.close());
    await step('event consumers', () => this.consumers.stopAll());
    if (this.relay) await step('outbox relay', () => this.relay!.stop());
    await step('command servers', () => this.commands.close());
    await step('NATS drain', async () => {
      if (!this.nc.isClosed()) await this.nc.drain();
    });
    await step('event store', () => this.eventStore.close());
    this.logger.info('fleet core closed');
    if (this.ownsLogger) this.logger.flush?.();
  }
}
