// Entry point of the worker-agent: `fleetvisor worker-agent run` (the CLI runs this file with the
// same arguments). Configuration comes from the environment (config.ts); see README.md.
import 'reflect-metadata';
import { runMain } from '@fleetvisor/platform';
import { runCommand } from './commands/run.command';

runMain('fleetvisor', [runCommand], 'fleetvisor worker-agent — reports one sealing worker to the registry and executes its commands.');
