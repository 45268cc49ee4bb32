// Entry point of the chain-watcher (`fleetvisor chain-watcher run`, or
// `node bin/run-ts.js apps/chain-watcher/src/main.ts chain-watcher run`).
import 'reflect-metadata';
import { runMain } from '@fleetvisor/platform';
import { runCommand } from './commands/run.command';

runMain('fleetvisor', [runCommand], 'fleetvisor chain-watcher — one watch of each chain for the whole fleet.');
