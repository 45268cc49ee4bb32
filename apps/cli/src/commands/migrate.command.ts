// `fleetvisor migrate`: create the database if missing and apply pending schema migrations.
import { migrate } from '@fleetvisor/event-store';
import { connectOrExplain, redactUrl } from '@fleetvisor/platform';
import { defineCliCommand } from '@fleetvisor/platform';
import { appSchemaMigrations } from '../app-routes';
import { loadCliConfig } from '../config';

export const migrateCommand = defineCliCommand({
  path: ['migrate'],
  summary: 'Create the database if missing and apply pending schema migrations',
  description:
    "The event store's migrations and every service's own (its tables), in timestamp order. Safe to run repeatedly and from several hosts at once (migrations take turns on a lock).",
  options: {
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  examples: ['fleetvisor migrate', 'FLEETVISOR_DATABASE_URL=postgres://postgres@db:5432/fleetvisor fleetvisor migrate --json'],
  async run({ options, io }) {
    const config = loadCliConfig();
    const applied = await connectOrExplain('PostgreSQL', 'FLEETVISOR_DATABASE_URL', config.databaseUrl, async () => migrate(config, undefined, await appSchemaMigrations()));
    if (options.json) {
      io.out(JSON.stringify({ database: redactUrl(config.databaseUrl), applied }) + '\n');
    } else if (applied.length === 0) {
      io.out(`database ${redactUrl(config.databaseUrl)} is up to date\n`);
    } else {
      io.out(`applied ${applied.length} migration(s) to ${redactUrl(config.databaseUrl)}:\n${applied.map((m) => `  ${m}\n`).join('')}`);
    }
  },
});
