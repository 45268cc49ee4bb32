// Entry point of the worker-registry (`fleetvisor worker-registry …` runs this file as a child
// process): `run` serves the registry until SIGINT/SIGTERM, `rebuild` replays the log into its
// projection.
import 'reflect-metadata';
import { runMain } from '@fleetvisor/platform';
import { rebuildCommand } from './commands/rebuild.command';
import { runCommand } from './commands/run.command';

runMain('fleetvisor', [runCommand, rebuildCommand], 'fleetvisor worker-registry — every sealing worker in one registry.');
