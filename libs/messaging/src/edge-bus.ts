// The bus of an edge process (service-runner, worker-agent): NATS without Postgres, connected in
// the background, so that the process starts and keeps working while NATS is down. nats.js waits
// for the first connection and reconnects forever on its own (waitOnFirstConnect,
// maxReconnectAttempts -1); this class only adds what follows a connection (a check that the event
// streams exist — `fleetvisor migrate` creates them, an edge process waits for them — the command
// bus, the consumers). What needs the bus awaits ready() or reads current.
import type { NatsConnection } from 'nats';
import { createSubjects, type Subjects } from '@fleetvisor/contracts';
import type { CoreConfig, Logger } from '@fleetvisor/platform';
import { backoffDelay, Sleeper } from './backoff';
import { CommandBus, type CommandTrust } from './command-bus';
import { EventConsumerFactory } from './event-consumer-factory';
import { checkFleetStreams, FleetStreamsMissingError } from './event-stream';
import { connectNats } from './nats-connection';
import { natsReadiness, ServiceHealth } from './service-health';

/** What FleetTransport binds handlers to: FleetCore is one, a connected EdgeBus gives one. */
export interface FleetBus {
  readonly logger: Logger;
  readonly subjects: Subjects;
  readonly nc: NatsConnection;
  readonly commands: CommandBus;
  readonly consumers: EventConsumerFactory;
}

export interface EdgeBusOptions {
  /** Process name, for the NATS connection name (`fleetvisor:<serviceName>@<host>`). */
  serviceName: string;
  config: Pick<CoreConfig, 'natsUrl' | 'subjectRoot' | 'host' | 'eventStreamName' | 'eventStreamMaxAgeMs'> & Partial<Pick<CoreConfig, 'nats' | 'healthListen'>>;
  logger: Logger;
  /**
   * Wait until the event stream and its dead-letter stream exist once connected (a process with
   * durable consumers): a missing stream is logged (run `fleetvisor migrate`) and checked again
   * with backoff, so the process rides out a fleet where migrate has not run yet.
   */
  eventStream?: boolean;
  /** How long one connection attempt may take (default 2000 ms). */
  connectTimeoutMs?: number;
  /** Wait between connection attempts (default 500 ms). */
  reconnectTimeWaitMs?: number;
  /** Signing and verification of commands (ADR 0006): this host's trust roots, and its key if it signs. */
  commandTrust?: CommandTrust;
}

export class EdgeBusClosedError extends Error {
  constructor() {
    super('the edge bus was closed before NATS could be reached');
    this.name = 'EdgeBusClosedError';
  }
}

export class EdgeBus {
  readonly subjects: Subjects;
  readonly logger: Logger;
  private bus: FleetBus | undefined;
  private opening: Promise<FleetBus> | undefined;
  private nc: NatsConnection | undefined;
  private closed = false;
  private readonly sleeper = new Sleeper();
  private readonly log: Logger;
  /**
   * Served on FLEETVISOR_HEALTH_LISTEN. Ready means NATS answers; an edge process keeps doing its
   * work while it does not (events wait in its spool), so an orchestrator should alert on
   * unready, not restart it.
   */
  readonly health: ServiceHealth;

  constructor(private readonly opts: EdgeBusOptions) {
    this.subjects = createSubjects(opts.config.subjectRoot);
    this.logger = opts.logger;
    this.log = opts.logger.child({ component: 'edge-bus' });
    this.health = new ServiceHealth(opts.serviceName);
    this.health.addCheck({
      name: 'nats',
      check: async () => {
        if (!this.nc) throw new Error('not connected yet');
        await natsReadiness(this.nc).check();
      },
    });
  }

  /** The health and metrics server, when FLEETVISOR_HEALTH_LISTEN is set. */
  async serveHealth(): Promise<void> {
    await this.health.serve(this.opts.config.healthListen, this.log);
  }

  /** The bus once connected and set up; undefined before. */
  get current(): FleetBus | undefined {
    return this.bus;
  }

  /** Starts connecting (idempotent). The promise rejects with EdgeBusClosedError when closed first. */
  ready(): Promise<FleetBus> {
    if (!this.opening) {
      this.opening = this.open();
      // Callers that never await it must not see an unhandled rejection.
      this.opening.catch(() => undefined);
    }
    return this.opening;
  }

  private async open(): Promise<FleetBus> {
    const { config } = this.opts;
    let waits = 0;
    const nc = await connectNats(config, this.opts.logger, {
      name: `fleetvisor:${this.opts.serviceName}@${config.host}`,
      connectTimeoutMs: this.opts.connectTimeoutMs ?? 2_000,
      reconnectTimeWaitMs: this.opts.reconnectTimeWaitMs ?? 500,
      waitOnFirstConnect: true,
      // Asked before every attempt, the first included: the second ask follows a failed attempt.
      cancelled: () => {
        if (++waits === 2 && !this.nc && !this.closed) this.log.warn('NATS unreachable; working without the bus until it answers');
        return this.closed;
      },
    }).catch((e: unknown) => {
      if (this.closed) throw new EdgeBusClosedError();
      throw e;
    });
    this.nc = nc;
    if (this.closed) {
      await nc.close().catch(() => undefined);
      throw new EdgeBusClosedError();
    }
    if (this.opts.eventStream) await this.ensureStream(nc);
    const bus: FleetBus = {
      logger: this.opts.logger,
      subjects: this.subjects,
      nc,
      commands: new CommandBus({ nc, subjects: this.subjects, logger: this.opts.logger, ...this.opts.commandTrust }),
      consumers: new EventConsumerFactory(nc, this.subjects, config.eventStreamName, this.opts.logger),
    };
    this.bus = bus;
    return bus;
  }

  /**
   * Waits for the streams: JetStream may lag behind a (re)started server, and `fleetvisor migrate`
   * may not have run yet. Checked again until they exist or the bus closes; never created here.
   */
  private async ensureStream(nc: NatsConnection): Promise<void> {
    const { config } = this.opts;
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new EdgeBusClosedError();
      try {
        await checkFleetStreams(await nc.jetstreamManager(), config.eventStreamName);
        if (attempt > 1) this.log.info({ stream: config.eventStreamName }, 'event streams found');
        return;
      } catch (e) {
        const delay = backoffDelay(attempt, { initialMs: 250, maxMs: 10_000 });
        if (attempt === 1 || attempt % 10 === 0) {
          const err = e instanceof Error ? e.message : String(e);
          if (e instanceof FleetStreamsMissingError) this.log.error({ err, retryInMs: delay }, 'event streams missing: run `fleetvisor migrate`; checking again');
          else this.log.warn({ err, retryInMs: delay }, 'event stream not ready yet');
        }
        await this.sleeper.sleep(delay);
      }
    }
  }

  /** Stops the consumers and command servers, drains the connection; ends a wait for NATS. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sleeper.interrupt();
    await this.health.close();
    await this.opening?.catch(() => undefined);
    const bus = this.bus;
    if (bus) {
      await bus.consumers.stopAll();
      await bus.commands.close();
    }
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
  }
}
