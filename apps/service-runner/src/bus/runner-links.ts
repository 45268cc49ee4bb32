// The runner's connections to the log (Postgres) and the bus (NATS), made so that neither being
// down ever stops the runner: the pool reconnects per query; NATS is the EdgeBus, which the NATS
// client connects in the background (and reconnects forever once up). Whoever needs a link asks
// for it and copes with it being absent.
import { Pool } from 'pg';
import type { NatsConnection } from 'nats';
import { pgConnectionSettings, PostgresEventStore } from '@fleetvisor/event-store/core';
import type { EdgeBus } from '@fleetvisor/messaging/core';
import type { CoreConfig, Logger } from '@fleetvisor/platform';

export class RunnerLinks {
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  private readonly log: Logger;

  constructor(
    readonly config: CoreConfig,
    readonly bus: EdgeBus,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'links' });
    this.pool = new Pool({ ...pgConnectionSettings(config), max: 3, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 10_000, application_name: 'fleetvisor:service-runner' });
    // An idle client losing its server must not crash the process; the next query reconnects.
    this.pool.on('error', (e) => this.log.debug({ err: e.message }, 'idle Postgres connection lost'));
    this.store = new PostgresEventStore(this.pool, { logger: this.log });
  }

  /** The NATS connection once the bus answered; undefined before. */
  get nc(): NatsConnection | undefined {
    return this.bus.current?.nc;
  }

  /** Closes the log's pool; the bus belongs to the app (FleetEdgeModule closes it). */
  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
