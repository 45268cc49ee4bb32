// `fleetvisor stats calls`: calls over time per caller, component or method (the seed's Grafana
// panels: venus-all, venus-messager, filecoin-interface), as a terminal chart with a table of totals.
import { StatsCalls, STATS_DIMENSIONS, type StatsDimension } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { remoteOf } from '../remote';
import { askStats, parseRange, parseStep, RANGE_OPTIONS, renderChart, totalsTable } from './stats-common';

export const statsCallsCommand = defineCliCommand({
  path: ['stats', 'calls'],
  summary: 'API calls over time per caller, component or method, as a terminal chart with totals',
  options: {
    ...RANGE_OPTIONS,
    step: { type: 'string', description: 'one point per step (whole minutes; default: fits the chart)', placeholder: 'duration' },
    by: { type: 'string', description: 'one series per caller, component or method (default: one, all calls)', placeholder: 'dimension' },
    limit: { type: 'string', description: 'at most this many series (default 20; the rest is summed as "others")', placeholder: 'n' },
  },
  examples: [
    'fleetvisor stats calls --by caller --since 24h',
    'fleetvisor stats calls --component venus-messager --by caller',
    'fleetvisor stats calls --component venus --by method --since 1h --json',
  ],
  async run({ options, io }) {
    if (options.by !== undefined && !STATS_DIMENSIONS.includes(options.by as StatsDimension)) throw new UsageError(`--by must be one of ${STATS_DIMENSIONS.join(', ')}, got "${options.by}"`);
    const limit = options.limit === undefined ? undefined : Number(options.limit);
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)) throw new UsageError('--limit must be an integer from 1 to 1000');
    const range = parseRange(options, Date.now());
    const stepSeconds = parseStep(options.step, range);
    const result = await askStats(StatsCalls, {
      ...range,
      stepSeconds,
      ...(options.by ? { by: options.by as StatsDimension } : {}),
      ...(options.caller ? { caller: options.caller } : {}),
      ...(options.component ? { component: options.component } : {}),
      ...(options.method ? { method: options.method } : {}),
      ...(limit ? { limit } : {}),
    }, 30_000, remoteOf(options));
    if (options.json) {
      io.out(JSON.stringify(result) + '\n');
      return;
    }
    if (result.series.length === 0) {
      io.out(`no calls from ${result.from} to ${result.to}\n`);
      return;
    }
    io.out(renderChart(result.series, result, { color: io.stdoutIsTTY }));
    io.out('\n' + totalsTable(options.by ? options.by[0]!.toUpperCase() + options.by.slice(1) : 'Series', result.series));
    if (result.others > 0) io.out(`others: ${result.others.toLocaleString('en-US')} calls in series past --limit\n`);
  },
});
