// `fleetvisor up`: the main job. Brings the backbone up on this machine — database and schema,
// JetStream streams, the outbox relay (leader or standby) — records that this host is online, and
// prints every event that reaches the bus until interrupted. Later services join the same process.
import { NestFactory } from '@nestjs/core';
import { HostOffline, HostOnline, newEvent } from '@fleetvisor/contracts';
import { FLEET_CORE, NatsUnavailableError, type FleetCore } from '@fleetvisor/messaging';
import { createLogger, DependencyUnreachableError, fleetvisorVersion, PinoNestLogger, isConnectFailure, redactUrl } from '@fleetvisor/platform';
import { defineCliCommand } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { startBusTail } from '../bus-tail';
import { formatEventJson, formatEventLine } from '../event-format';
import { UpModule } from '../up/up.module';


export const upCommand = defineCliCommand({
  path: ['up'],
  summary: 'Run the Fleetvisor backbone here (schema, streams, relay) and show live events',
  description:
    'Creates the database and applies migrations, makes sure the JetStream streams exist, runs the ' +
    'outbox relay (one leader across all processes; others stand by), then prints every event ' +
    'published on the bus. Stop with Ctrl-C.',
  options: {
    json: { type: 'boolean', description: 'events as JSON lines on stdout (logs stay on stderr)' },
    'no-tail': { type: 'boolean', description: 'run the backbone without printing events' },
  },
  examples: ['fleetvisor up', 'FLEETVISOR_LOG_LEVEL=debug fleetvisor up --json'],
  async run({ options, io }) {
    const config = loadCliConfig();
    // Logs go to stderr so stdout carries only events.
    const logger = createLogger({ name: 'fleetvisor-up', level: config.logLevel, format: config.logFormat, stream: 'stderr' });
    const app = await NestFactory.createApplicationContext(UpModule.register(config, logger), { logger: new PinoNestLogger(logger), abortOnError: false }).catch(
      (e: unknown) => {
        throw explainStartupError(e, config.databaseUrl);
      },
    );
    await app.init();
    const core = app.get<FleetCore>(FLEET_CORE);
    const tail = options['no-tail']
      ? undefined
      : await startBusTail({
          js: core.js,
          streamName: config.eventStreamName,
          filterSubject: core.subjects.allEvents(),
          onEvent: (e) => io.out((options.json ? formatEventJson(e) : formatEventLine(e)) + '\n'),
          onInvalid: (subject, reason) => logger.warn({ subject, reason }, 'invalid message on the event stream'),
        });
    const hostStream = config.host;
    await core.store.appendToStream(`host-${hostStream}`, [
      newEvent(HostOnline, hostStream, { host: config.host, process: 'fleetvisor-up', pid: process.pid, fleetvisorVersion: fleetvisorVersion() }, { host: config.host, actor: 'fleetvisor-up' }),
    ]);
    logger.info(
      { database: redactUrl(config.databaseUrl), nats: redactUrl(config.natsUrl), stream: config.eventStreamName, relay: core.relay?.status() },
      'Fleetvisor backbone is up; press Ctrl-C to stop',
    );
    const signal = await io.interrupted;
    logger.info({ signal }, 'shutting down');
    await core.store
      .appendToStream(`host-${hostStream}`, [
        newEvent(HostOffline, hostStream, { host: config.host, process: 'fleetvisor-up', pid: process.pid, reason: `received ${signal}` }, { host: config.host, actor: 'fleetvisor-up' }),
      ])
      .catch((err: unknown) => logger.warn({ err }, 'could not record HostOffline'));
    await tail?.stop();
    await app.close();
  },
});

/** NATS failures already name FLEETVISOR_NATS_URL (NatsUnavailableError); name the database's too. */
function explainStartupError(e: unknown, databaseUrl: string): unknown {
  if (e instanceof NatsUnavailableError || e instanceof DependencyUnreachableError) return e;
  return isConnectFailure(e) ? new DependencyUnreachableError('FLEETVISOR_DATABASE_URL', databaseUrl, e, 'PostgreSQL') : e;
}
