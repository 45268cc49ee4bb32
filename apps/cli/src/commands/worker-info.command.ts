// `fleetvisor worker info <worker>`: every thread of one worker, as `venus-worker worker list` shows it.
import { WorkerInfo } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { askRegistry, formatWorkerInfo, WORKER_REF_HELP } from './worker-common';
import { REMOTE_OPTIONS, remoteOf } from '../remote';

export const workerInfoCommand = defineCliCommand({
  path: ['worker', 'info'],
  args: '<worker>',
  summary: 'Every thread of one worker: index, location, sector, plan, paused, state, stage, last error',
  description: `${WORKER_REF_HELP[0]!.toUpperCase()}${WORKER_REF_HELP.slice(1)}.`,
  options: { json: { type: 'boolean', description: 'worker and threads as one JSON object' }, ...REMOTE_OPTIONS },
  examples: ['fleetvisor worker info w-01', 'fleetvisor worker info 10.0.0.5:17890 --json'],
  async run({ options, positionals, io }) {
    if (positionals.length !== 1) throw new UsageError('name one worker');
    const r = await askRegistry(WorkerInfo, { worker: positionals[0]! }, 10_000, remoteOf(options));
    if (options.json) io.out(JSON.stringify(r) + '\n');
    else io.out(formatWorkerInfo(r.worker, r.threads));
  },
});
