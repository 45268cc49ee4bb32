// `fleetvisor migrate`: create the database if missing and apply pending schema migrations, then
// create or update the JetStream streams and the key-revocation bucket (ADR 0006: streams belong
// to migrate, run with the admin NATS credential; services only check they exist).
import { migrate } from '@fleetvisor/event-store';
import { migrateFleetStreams, type FleetStreamsResult } from '@fleetvisor/messaging/core';
import { connectOrExplain, createLogger, redactUrl } from '@fleetvisor/platform';
import { defineCliCommand } from '@fleetvisor/platform';
import { appSchemaMigrations } from '../app-routes';
import { loadCliConfig } from '../config';

export const migrateCommand = defineCliCommand({
  path: ['migrate'],
  summary: 'Create the database and the JetStream streams if missing, and bring both to this version',
  description:
    "The event store's migrations and every service's own (its tables), in timestamp order; then the JetStream streams: the event stream " +
    '(FLEETVISOR_EVENT_STREAM, 8 GiB, 512 KiB per message), its dead-letter stream (1 GiB) and the key-revocation KV bucket <root>_keys (history 64). ' +
    'Services never create streams; they stop (or, on a host, wait) until migrate has run. Run it with the admin NATS credential ' +
    '(`fleetvisor nats-config` writes one). Safe to run repeatedly and from several hosts at once (migrations take turns on a lock).',
  options: {
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  examples: ['fleetvisor migrate', 'FLEETVISOR_DATABASE_URL=postgres://postgres@db:5432/fleetvisor fleetvisor migrate --json'],
  async run({ options, io }) {
    const config = loadCliConfig();
    const applied = await connectOrExplain('PostgreSQL', 'FLEETVISOR_DATABASE_URL', config.databaseUrl, async () => migrate(config, undefined, await appSchemaMigrations()));
    const logger = createLogger({ name: 'fleetvisor-migrate', level: config.logLevel === 'info' ? 'warn' : config.logLevel, format: config.logFormat, stream: 'stderr' });
    const streams = await migrateFleetStreams(config, logger);
    if (options.json) {
      io.out(JSON.stringify({ database: redactUrl(config.databaseUrl), applied, streams: streamsSummary(streams) }) + '\n');
      return;
    }
    if (applied.length === 0) {
      io.out(`database ${redactUrl(config.databaseUrl)} is up to date\n`);
    } else {
      io.out(`applied ${applied.length} migration(s) to ${redactUrl(config.databaseUrl)}:\n${applied.map((m) => `  ${m}\n`).join('')}`);
    }
    for (const s of streamsSummary(streams)) io.out(`stream ${s.name}: ${s.action}\n`);
  },
});

function streamsSummary(r: FleetStreamsResult): { name: string; action: string }[] {
  return [
    { name: r.events.name, action: r.events.action },
    { name: r.deadLetter.name, action: r.deadLetter.action },
    ...(r.keys ? [{ name: r.keys.stream, action: r.keys.action }] : []),
  ];
}
