// `fleetvisor stats-collector run`: the stats-collector service in the foreground.
import { createFleetMicroservice, listenOrClose } from '@fleetvisor/messaging';
import { defineCliCommand, type CliCommand } from '@fleetvisor/platform';
import { readStatsCollectorConfig } from '../config';
import { StatsCollectorModule } from '../stats-collector.module';

export const runCommand = defineCliCommand({
  path: ['stats-collector', 'run'],
  summary: 'Run the stats-collector: take pushed call counts, keep the rollups, answer `fleetvisor stats …`',
  description: [
    'Catches its projection (fv_stats_rollups) up with the event log, then serves fleet.cmd.stats-collector.*',
    '(push.<source>, calls, top, anomalies) until SIGINT/SIGTERM. Settings (environment):',
    '  FLEETVISOR_STATS_MIN_WINDOW_SECONDS (10), FLEETVISOR_STATS_MINUTE_AGE (48h), FLEETVISOR_STATS_TEN_MINUTE_AGE (14d),',
    '  FLEETVISOR_STATS_RETENTION (400d), FLEETVISOR_STATS_COMPACT_INTERVAL (5m), FLEETVISOR_STATS_METRICS_LISTEN (host:port),',
    '  FLEETVISOR_STATS_SCRAPE_TARGETS (name=url,…), FLEETVISOR_STATS_SCRAPE_SECONDS (15), FLEETVISOR_STATS_BAND_HISTORY (24h),',
    '  FLEETVISOR_STATS_DISCOVERY_INTERVAL (1m; 0 = off: ask the runners for their services\' metrics addresses), FLEETVISOR_STATS_DISCOVERY_WAIT (2s),',
    '  FLEETVISOR_STATS_ANOMALY_AFTER (10m), FLEETVISOR_STATS_ANOMALY_EDGE (30m), FLEETVISOR_STATS_ANOMALY_INTERVAL (1m),',
    '  FLEETVISOR_STATS_ANOMALY_METHODS (a regular expression, evaluated by Postgres),',
    '  plus the core FLEETVISOR_* variables; FLEETVISOR_HEALTH_LISTEN (host:port) serves /health/live, /health/ready and /metrics.',
  ].join('\n'),
  options: {
    'no-relay': { type: 'boolean', description: 'do not take part in the outbox relay election' },
  },
  examples: ['fleetvisor stats-collector run', 'FLEETVISOR_HEALTH_LISTEN=127.0.0.1:9473 fleetvisor stats-collector run'],
  async run({ options, io }) {
    const config = readStatsCollectorConfig();
    const app = await createFleetMicroservice(StatsCollectorModule.forRoot(config, { relay: !options['no-relay'] }), { serviceName: 'stats-collector', nest: { logger: false } });
    await listenOrClose(app);
    io.err(`stats-collector: serving on ${config.core.subjectRoot}.cmd.stats-collector.*\n`);
    const why = await io.interrupted;
    io.err(`stats-collector: ${why}, stopping\n`);
    await app.close();
    return 0;
  },
}) as unknown as CliCommand;
