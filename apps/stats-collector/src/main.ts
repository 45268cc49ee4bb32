// Entry point of the stats-collector (`fleetvisor stats-collector …` and `fleetvisor meter` hand
// the process over to this file): `run` serves the collector, `rebuild` replays the log into its
// rollups, `meter` is the metering proxy.
import 'reflect-metadata';
import { runMain } from '@fleetvisor/platform';
import { meterCommand } from './commands/meter.command';
import { rebuildCommand } from './commands/rebuild.command';
import { runCommand } from './commands/run.command';

runMain('fleetvisor', [runCommand, rebuildCommand, meterCommand], 'fleetvisor stats-collector — API-call statistics per caller, component and method.');
