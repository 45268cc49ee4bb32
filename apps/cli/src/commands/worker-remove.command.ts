// `fleetvisor worker remove <worker>`: forget a worker (WorkerRemoved); it registers anew if it reports again.
import { WorkerRemove } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { askRegistry, WORKER_REF_HELP } from './worker-common';

export const workerRemoveCommand = defineCliCommand({
  path: ['worker', 'remove'],
  args: '<worker>',
  summary: 'Forget a worker (it registers anew if it reports again)',
  description: `${WORKER_REF_HELP[0]!.toUpperCase()}${WORKER_REF_HELP.slice(1)}. Its history stays in the log.`,
  options: {
    json: { type: 'boolean', description: 'the result as one JSON object' },
  },
  examples: ['fleetvisor worker remove w-01'],
  async run({ options, positionals, io }) {
    if (positionals.length !== 1) throw new UsageError('name one worker');
    const r = await askRegistry(WorkerRemove, { worker: positionals[0]! });
    if (options.json) io.out(JSON.stringify(r) + '\n');
    else io.out(r.removed ? `${r.worker} removed\n` : `${r.worker} was not registered\n`);
  },
});
