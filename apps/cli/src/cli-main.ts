// The CLI's own commands (everything that is not a service app's: see app-routes.ts).
import 'reflect-metadata';
import { runMain } from '@fleetvisor/platform';
import { COMMANDS, PREAMBLE } from './commands';

export function runFleetvisorCli(): void {
  runMain('fleetvisor', COMMANDS, PREAMBLE);
}
