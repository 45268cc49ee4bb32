// `fleetvisor events rebuild <projection>`: drop a projection's state and replay the whole log
// into it, with progress. The state is swapped in one transaction, so readers never see it half-built.
// A projection a service app owns is rebuilt by that app's own rebuild command, in this process.
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { handOverToApp } from '../app-routes';
import { loadCliConfig } from '../config';
import { withEventLog } from '../event-log';
import { ProgressReporter } from '@fleetvisor/platform';
import { APP_PROJECTIONS, PROJECTION_NAMES, PROJECTIONS } from '../projections';

const DEFAULT_BATCH_SIZE = 5000;

export const eventsRebuildCommand = defineCliCommand({
  path: ['events', 'rebuild'],
  args: '<projection>',
  summary: 'Rebuild a projection from the event log, with a progress bar',
  description: `Projections: ${PROJECTION_NAMES.join(', ')}.`,
  options: {
    json: { type: 'boolean', description: 'progress and result as JSON lines' },
    // No default here: an app's rebuild command has its own (worker-registry: 10000).
    'batch-size': { type: 'string', description: `events per transaction (default ${DEFAULT_BATCH_SIZE}; worker-registry: 10000)`, placeholder: 'n' },
  },
  examples: ['fleetvisor events rebuild stream-stats', 'fleetvisor events rebuild worker-registry --json'],
  async run({ options, positionals, io }) {
    const name = positionals[0];
    if (!name || positionals.length > 1) throw new UsageError(`name one projection: ${PROJECTION_NAMES.join(', ')}`);
    const make = PROJECTIONS[name];
    const owner = APP_PROJECTIONS[name];
    if (!make && !owner) throw new UsageError(`unknown projection "${name}"; known: ${PROJECTION_NAMES.join(', ')}`);
    const given = options['batch-size'];
    const batchSize = given === undefined ? DEFAULT_BATCH_SIZE : Number(given);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) throw new UsageError('--batch-size must be an integer from 1 to 100000');
    if (owner) {
      // The app parses process.argv with its own commands and ends the process with its exit code
      // (runMain); this command never returns, so the CLI does not exit under it.
      process.argv = [...process.argv.slice(0, 2), ...owner.words, ...(options.json ? ['--json'] : []), ...(given === undefined ? [] : ['--batch-size', String(batchSize)])];
      handOverToApp(owner.app);
      return new Promise<never>(() => undefined);
    }
    const reporter = new ProgressReporter((t) => io.err(t), options.json ? 'json' : io.stderrIsTTY ? 'tty' : 'lines');
    const result = await withEventLog(loadCliConfig(), (log) => log.rebuild(make!(), (p) => reporter.update(p), { batchSize }));
    reporter.done(result);
    if (options.json) io.out(JSON.stringify({ projection: name, ...result }) + '\n');
    else io.out(`rebuilt ${name}: ${result.processed.toLocaleString('en-US')} events in ${(result.durationMs / 1000).toFixed(2)} s (checkpoint ${result.checkpoint})\n`);
  },
});
