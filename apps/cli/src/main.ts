// Entry point of the `fleetvisor` command (bin/fleetvisor.js loads this file through SWC).
import 'reflect-metadata';
import { runMain } from '@fleetvisor/platform';
import { COMMANDS, PREAMBLE } from './commands';

runMain('fleetvisor', COMMANDS, PREAMBLE);
