// `fleetvisor worker history <worker> [--index N] | --sector <id>`: every recorded change with its
// time, read from the event log by the registry.
import { SectorId, WorkerHistory } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { askRegistry, formatHistory, parseIndex, WORKER_REF_HELP } from './worker-common';

export const workerHistoryCommand = defineCliCommand({
  path: ['worker', 'history'],
  args: '<worker> [--index N] | --sector <id>',
  summary: 'Every transition, pause and resume of a worker, a thread or a sector, with its time (from the log)',
  description: `${WORKER_REF_HELP[0]!.toUpperCase()}${WORKER_REF_HELP.slice(1)}. With --sector, the sector's history on every worker thread it ran on.`,
  options: {
    index: { type: 'string', description: 'only this thread', placeholder: 'N' },
    sector: { type: 'string', description: 'one sector across the fleet instead of a worker', placeholder: 'id' },
    limit: { type: 'string', description: 'at most the last n entries', default: '1000', placeholder: 'n' },
    json: { type: 'boolean', description: 'the entries as one JSON object' },
  },
  examples: ['fleetvisor worker history w-01', 'fleetvisor worker history w-01 --index 3', 'fleetvisor worker history --sector s-t01000-42'],
  async run({ options, positionals, io }) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be an integer from 1 to 10000');
    let request: { worker?: string; index?: number; sectorId?: string; limit: number };
    if (options.sector !== undefined) {
      if (positionals.length > 0 || options.index !== undefined) throw new UsageError('--sector goes alone: no <worker>, no --index');
      if (!new RegExp(SectorId().pattern!).test(options.sector)) throw new UsageError(`"${options.sector}" is not a sector id (e.g. s-t01000-42)`);
      request = { sectorId: options.sector, limit };
    } else {
      if (positionals.length !== 1) throw new UsageError('name one worker, or give --sector <id>');
      request = { worker: positionals[0]!, ...(options.index !== undefined ? { index: parseIndex(options.index, '--index') } : {}), limit };
    }
    const r = await askRegistry(WorkerHistory, request);
    if (options.json) io.out(JSON.stringify(r) + '\n');
    else io.out(formatHistory(r.entries, options.sector !== undefined) + (r.truncated ? `(older entries left out: --limit ${limit})\n` : ''));
  },
});
