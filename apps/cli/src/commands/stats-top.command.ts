// `fleetvisor stats top`: the busiest callers, components or methods of a range.
import { StatsTop, STATS_DIMENSIONS, type StatsDimension } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { remoteOf } from '../remote';
import { askStats, parseRange, RANGE_OPTIONS, totalsTable } from './stats-common';

export const statsTopCommand = defineCliCommand({
  path: ['stats', 'top'],
  summary: 'The busiest callers, components or methods, with errors and latency percentiles',
  options: {
    ...RANGE_OPTIONS,
    by: { type: 'string', description: 'what to rank: caller, component or method (default caller)', placeholder: 'dimension' },
    limit: { type: 'string', description: 'rows (default 10)', placeholder: 'n' },
  },
  examples: ['fleetvisor stats top', 'fleetvisor stats top --by method --component venus --since 24h'],
  async run({ options, io }) {
    const by = (options.by ?? 'caller') as StatsDimension;
    if (!STATS_DIMENSIONS.includes(by)) throw new UsageError(`--by must be one of ${STATS_DIMENSIONS.join(', ')}, got "${by}"`);
    const limit = options.limit === undefined ? 10 : Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be an integer from 1 to 1000');
    const range = parseRange(options, Date.now());
    const result = await askStats(StatsTop, {
      ...range,
      by,
      limit,
      ...(options.caller ? { caller: options.caller } : {}),
      ...(options.component ? { component: options.component } : {}),
      ...(options.method ? { method: options.method } : {}),
    }, 30_000, remoteOf(options));
    if (options.json) io.out(JSON.stringify(result) + '\n');
    else if (result.rows.length === 0) io.out(`no calls from ${range.from} to ${range.to}\n`);
    else io.out(totalsTable(by[0]!.toUpperCase() + by.slice(1), [...result.rows, { key: 'total', ...result.total }]));
  },
});
