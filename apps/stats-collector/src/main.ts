// Entry point of the stats-collector (`fleetvisor stats-collector …` and `fleetvisor meter` hand
// the process over to this file): `run` serves the collector, `rebuild` replays the log into its
// rollups, `meter` is the metering proxy. Each command loads only what it needs (the proxy no Nest,
// no Postgres).
import 'reflect-metadata';
import { lazyCommand, runMain } from '@fleetvisor/platform';

runMain(
  'fleetvisor',
  [
    lazyCommand({ path: ['stats-collector', 'run'], summary: 'Run the stats-collector: take pushed call counts, keep the rollups, answer `fleetvisor stats …`', load: async () => (await import('./commands/run.command')).runCommand }),
    lazyCommand({ path: ['stats-collector', 'rebuild'], summary: 'Rebuild the API-call rollups from the event log, with progress, then compact them', load: async () => (await import('./commands/rebuild.command')).rebuildCommand }),
    lazyCommand({ path: ['meter'], summary: 'Metering proxy for JSON-RPC over HTTP/WebSocket: forwards calls unchanged, counts them per caller and method', load: async () => (await import('./commands/meter.command')).meterCommand }),
  ],
  'fleetvisor stats-collector — API-call statistics per caller, component and method.',
);
