// `fleetvisor stats anomalies`: callers whose message-sending rate left its steady band.
import { StatsAnomalies } from '@fleetvisor/contracts';
import { defineCliCommand, parseDuration, UsageError } from '@fleetvisor/platform';
import { askStats } from './stats-common';
import { REMOTE_OPTIONS, remoteOf } from '../remote';
import { table } from './worker-common';

export const statsAnomaliesCommand = defineCliCommand({
  path: ['stats', 'anomalies'],
  summary: "Callers whose message-sending rate left its steady band (CallRateAnomaly), newest first",
  options: {
    caller: { type: 'string', description: 'only this caller', placeholder: 'name' },
    since: { type: 'string', description: 'only those detected in this last while, e.g. 24h', placeholder: 'duration' },
    open: { type: 'boolean', description: 'only those not recovered yet' },
    json: { type: 'boolean', description: 'the list as one JSON object' },
    ...REMOTE_OPTIONS,
  },
  examples: ['fleetvisor stats anomalies', 'fleetvisor stats anomalies --open --json'],
  async run({ options, io }) {
    let since: string | undefined;
    if (options.since !== undefined) {
      const ms = parseDuration(options.since);
      if (ms === undefined || ms <= 0) throw new UsageError(`--since must be a duration like 30m, 24h, got "${options.since}"`);
      since = new Date(Date.now() - ms).toISOString();
    }
    const { anomalies } = await askStats(StatsAnomalies, { ...(options.caller ? { caller: options.caller } : {}), ...(since ? { since } : {}), ...(options.open ? { open: true } : {}) }, 30_000, remoteOf(options));
    if (options.json) io.out(JSON.stringify({ anomalies }) + '\n');
    else if (anomalies.length === 0) io.out('no anomalies\n');
    else
      io.out(
        table(
          ['Caller', 'Component', 'Rate/min', 'Band/min', 'Since', 'Recovered'],
          anomalies.map((a) => [
            a.caller,
            a.component,
            `${a.observedPerMin.toFixed(1)} ${a.direction}`,
            `${a.band.low.toFixed(1)}-${a.band.high.toFixed(1)}`,
            a.outsideSince.slice(0, 16).replace('T', ' '),
            a.recoveredAt ? a.recoveredAt.slice(0, 16).replace('T', ' ') : '-',
          ]),
        ),
      );
  },
});
