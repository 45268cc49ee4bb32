// `fleetvisor worker pause <worker> <index>`: pause one thread through its agent (ThreadPaused, manual).
import { WorkerPause } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { askRegistry, parseIndex, WORKER_REF_HELP } from './worker-common';
import { REMOTE_OPTIONS, remoteOf } from '../remote';

export const workerPauseCommand = defineCliCommand({
  path: ['worker', 'pause'],
  args: '<worker> <index>',
  summary: 'Pause one sealing thread (proxied to the worker agent, recorded with who asked)',
  description: `${WORKER_REF_HELP[0]!.toUpperCase()}${WORKER_REF_HELP.slice(1)}. An unknown worker or index is refused naming what exists.`,
  options: {
    json: { type: 'boolean', description: 'the result as one JSON object' },
    ...REMOTE_OPTIONS,
  },
  examples: ['fleetvisor worker pause w-01 3'],
  async run({ options, positionals, io }) {
    if (positionals.length !== 2) throw new UsageError('expected <worker> <index>');
    const r = await askRegistry(WorkerPause, { worker: positionals[0]!, index: parseIndex(positionals[1]) }, 10_000, remoteOf(options));
    if (options.json) io.out(JSON.stringify(r) + '\n');
    else io.out(r.changed ? `${r.worker} thread #${r.index} paused\n` : `${r.worker} thread #${r.index} was already paused\n`);
  },
});
