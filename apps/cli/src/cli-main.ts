// The CLI's own commands (everything that is not a service app's: see app-routes.ts).
import { runMain } from '@fleetvisor/platform/cli';
import { COMMANDS, PREAMBLE } from './commands';

export function runFleetvisorCli(): void {
  runMain('fleetvisor', COMMANDS, PREAMBLE);
}
