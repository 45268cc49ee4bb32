// `fleetvisor events rebuild <projection>`: drop a projection's state and replay the whole log
// into it, with progress. The state is swapped in one transaction, so readers never see it half-built.
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { withEventLog } from '../event-log';
import { ProgressReporter } from '@fleetvisor/platform';
import { PROJECTIONS } from '../projections';

export const eventsRebuildCommand = defineCliCommand({
  path: ['events', 'rebuild'],
  args: '<projection>',
  summary: 'Rebuild a projection from the event log, with a progress bar',
  description: `Projections: ${Object.keys(PROJECTIONS).join(', ')}.`,
  options: {
    json: { type: 'boolean', description: 'progress and result as JSON lines' },
    'batch-size': { type: 'string', description: 'events per transaction', default: '5000', placeholder: 'n' },
  },
  examples: ['fleetvisor events rebuild stream-stats'],
  async run({ options, positionals, io }) {
    const name = positionals[0];
    if (!name || positionals.length > 1) throw new UsageError(`name one projection: ${Object.keys(PROJECTIONS).join(', ')}`);
    const make = PROJECTIONS[name];
    if (!make) throw new UsageError(`unknown projection "${name}"; known: ${Object.keys(PROJECTIONS).join(', ')}`);
    const batchSize = Number(options['batch-size']);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) throw new UsageError('--batch-size must be an integer from 1 to 100000');
    const reporter = new ProgressReporter((t) => io.err(t), options.json ? 'json' : io.stderrIsTTY ? 'tty' : 'lines');
    const result = await withEventLog(loadCliConfig(), (log) => log.rebuild(make(), (p) => reporter.update(p), { batchSize }));
    reporter.done(result);
    if (options.json) io.out(JSON.stringify({ projection: name, ...result }) + '\n');
    else io.out(`rebuilt ${name}: ${result.processed.toLocaleString('en-US')} events in ${(result.durationMs / 1000).toFixed(2)} s (checkpoint ${result.checkpoint})\n`);
  },
});
