// `fleetvisor worker-registry rebuild`: drop the worker projection and replay the log into it.
// A running registry picks the rebuilt tables up at its next start (its memory is the same fold).
import { EventStoreConnection } from '@fleetvisor/event-store';
import { connectOrExplain, defineCliCommand, ProgressReporter, readCoreConfig, type CliCommand } from '@fleetvisor/platform';
import { WorkerRegistryProjection } from '../projection/worker-projection';
import { MIGRATIONS } from '../migrations';

export const rebuildCommand = defineCliCommand({
  path: ['worker-registry', 'rebuild'],
  summary: 'Rebuild the workers and threads projection from the event log, with progress',
  options: {
    json: { type: 'boolean', description: 'progress and result as JSON lines' },
    // 10,000 (the runner's default): smaller batches rebuild slower, larger ones no faster but with a
    // higher peak of memory (a batch is read as one JSON text); docs/benchmarks.md has the figures.
    'batch-size': { type: 'string', description: 'events per transaction', default: '10000', placeholder: 'n' },
  },
  examples: ['fleetvisor worker-registry rebuild'],
  async run({ options, io }) {
    const batchSize = Number(options['batch-size']);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) throw new Error('--batch-size must be an integer from 1 to 100000');
    const config = readCoreConfig();
    const log = await connectOrExplain('PostgreSQL', 'FLEETVISOR_DATABASE_URL', config.databaseUrl, () =>
      EventStoreConnection.open(config, { migrate: true, migrations: MIGRATIONS, applicationName: 'fleetvisor-worker-registry-rebuild' }),
    );
    try {
      const reporter = new ProgressReporter((t) => io.err(t), options.json ? 'json' : io.stderrIsTTY ? 'tty' : 'lines');
      const result = await log.rebuild(new WorkerRegistryProjection(), (p) => reporter.update(p), { batchSize });
      reporter.done(result);
      if (options.json) io.out(JSON.stringify({ projection: 'worker-registry', ...result }) + '\n');
      else io.out(`rebuilt worker-registry: ${result.processed.toLocaleString('en-US')} events in ${(result.durationMs / 1000).toFixed(2)} s\n`);
    } finally {
      await log.close();
    }
  },
}) as unknown as CliCommand;
