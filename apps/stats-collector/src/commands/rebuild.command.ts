// `fleetvisor stats-collector rebuild`: drop the rollups and replay the log into them, then compact
// (so the rebuilt tables equal what a live collector holds).
import { EventStoreConnection } from '@fleetvisor/event-store';
import { connectOrExplain, defineCliCommand, ProgressReporter, readCoreConfig, type CliCommand } from '@fleetvisor/platform';
import { readStatsCollectorSettings } from '../config';
import { MIGRATIONS } from '../migrations';
import { compactRollups } from '../projection/compaction';
import { StatsProjection } from '../projection/stats-projection';

export const rebuildCommand = defineCliCommand({
  path: ['stats-collector', 'rebuild'],
  summary: 'Rebuild the API-call rollups from the event log, with progress, then compact them',
  options: {
    json: { type: 'boolean', description: 'progress and result as JSON lines' },
    'batch-size': { type: 'string', description: 'events per transaction (each up to 1,000 records)', default: '100', placeholder: 'n' },
  },
  examples: ['fleetvisor stats-collector rebuild'],
  async run({ options, io }) {
    const batchSize = Number(options['batch-size']);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) throw new Error('--batch-size must be an integer from 1 to 100000');
    const config = readCoreConfig();
    const settings = readStatsCollectorSettings();
    const log = await connectOrExplain('PostgreSQL', 'FLEETVISOR_DATABASE_URL', config.databaseUrl, () =>
      EventStoreConnection.open(config, { migrate: true, migrations: MIGRATIONS, applicationName: 'fleetvisor-stats-rebuild' }),
    );
    try {
      const reporter = new ProgressReporter((t) => io.err(t), options.json ? 'json' : io.stderrIsTTY ? 'tty' : 'lines');
      const result = await log.rebuild(new StatsProjection(), (p) => reporter.update(p), { batchSize });
      reporter.done(result);
      const compacted = await compactRollups(log.pool, settings);
      if (options.json) io.out(JSON.stringify({ projection: 'stats-collector', ...result, compacted }) + '\n');
      else io.out(`rebuilt stats-collector: ${result.processed.toLocaleString('en-US')} events in ${(result.durationMs / 1000).toFixed(2)} s\n`);
    } finally {
      await log.close();
    }
  },
}) as unknown as CliCommand;
