// The runner's connections to the log (Postgres) and the bus (NATS), made so that neither being
// down ever stops the runner: the pool reconnects per query, NATS is connected in the background
// with retries (and reconnects forever once up). Whoever needs a link asks for it and copes with
// it being absent.
import { Pool } from 'pg';
import type { NatsConnection } from 'nats';
import { createSubjects, type Subjects } from '@fleetvisor/contracts';
import { PostgresEventStore } from '@fleetvisor/event-store/core';
import { connectNats, deadLetterStreamName, ensureEventStream, DEFAULT_DUPLICATE_WINDOW_MS, Sleeper } from '@fleetvisor/messaging/core';
import type { CoreConfig, Logger } from '@fleetvisor/platform';

export class RunnerLinks {
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  readonly subjects: Subjects;
  nc: NatsConnection | undefined;
  private stopped = false;
  private readonly sleeper = new Sleeper();
  private readonly natsListeners: ((nc: NatsConnection) => Promise<void>)[] = [];
  private connecting: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    readonly config: CoreConfig,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'links' });
    this.pool = new Pool({ connectionString: config.databaseUrl, max: 3, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 10_000, application_name: 'fleetvisor:service-runner' });
    // An idle client losing its server must not crash the process; the next query reconnects.
    this.pool.on('error', (e) => this.log.debug({ err: e.message }, 'idle Postgres connection lost'));
    this.store = new PostgresEventStore(this.pool, { logger: this.log });
    this.subjects = createSubjects(config.subjectRoot);
  }

  /** Runs `fn` once NATS is connected (and the event stream exists). */
  onNats(fn: (nc: NatsConnection) => Promise<void>): void {
    this.natsListeners.push(fn);
    if (this.nc) void fn(this.nc).catch((e) => this.log.error({ err: (e as Error).message }, 'NATS setup failed'));
  }

  startNats(): void {
    if (this.connecting) return;
    this.connecting = (async () => {
      for (let attempt = 1; !this.stopped; attempt++) {
        try {
          const nc = await connectNats(this.config.natsUrl, this.log, { name: `fleetvisor:service-runner@${this.config.host}`, connectTimeoutMs: 2_000 });
          if (this.stopped) {
            await nc.close();
            return;
          }
          const jsm = await nc.jetstreamManager();
          await ensureEventStream(
            jsm,
            {
              name: this.config.eventStreamName,
              subjects: this.subjects.allEvents(),
              maxAgeMs: this.config.eventStreamMaxAgeMs,
              duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
              deadLetter: { name: deadLetterStreamName(this.config.eventStreamName), subjects: this.subjects.allDeadLetters() },
            },
            this.log,
          ).catch(async (e: unknown) => {
            await nc.close();
            throw e;
          });
          this.nc = nc;
          for (const fn of this.natsListeners) await fn(nc).catch((e) => this.log.error({ err: (e as Error).message }, 'NATS setup failed'));
          return;
        } catch (e) {
          const delay = Math.min(10_000, 250 * 2 ** Math.min(attempt - 1, 10));
          if (attempt === 1 || attempt % 10 === 0) this.log.warn({ err: (e as Error).message, retryInMs: delay }, 'NATS unreachable; supervising without the bus');
          await this.sleeper.sleep(delay);
        }
      }
    })();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.sleeper.interrupt();
    await this.connecting;
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
