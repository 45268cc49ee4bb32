// `fleetvisor worker errors`: every thread of the fleet with a last error.
import { WorkerErrors } from '@fleetvisor/contracts';
import { defineCliCommand } from '@fleetvisor/platform';
import { askRegistry, table } from './worker-common';

export const workerErrorsCommand = defineCliCommand({
  path: ['worker', 'errors'],
  summary: 'Every sealing thread of the fleet that has a last error',
  options: { json: { type: 'boolean', description: 'the list as one JSON object' } },
  examples: ['fleetvisor worker errors', 'fleetvisor worker errors --json'],
  async run({ options, io }) {
    const { threads } = await askRegistry(WorkerErrors, {});
    if (options.json) io.out(JSON.stringify({ threads }) + '\n');
    else if (threads.length === 0) io.out('no thread has an error\n');
    else
      io.out(
        table(
          ['Worker', 'Index', 'SectorID', 'Plan', 'State', 'Paused', 'LastErr'],
          threads.map((t) => [t.worker + (t.expired ? ' !' : ''), String(t.index), t.sectorId ?? '-', t.plan, t.state, String(t.paused), t.lastError]),
        ),
      );
  },
});
