// Entry point of the service-runner: `fleetvisor init|create-service|start|wrap|pod|services ...|upgrades ...|secrets ...|install-systemd`
// hand the process over to this file (apps/cli/src/app-routes.ts).
import 'reflect-metadata';
import { runMain, type CliCommand } from '@fleetvisor/platform';
import { createServiceCommand } from './commands/create-service.command';
import { initCommand } from './commands/init.command';
import { installSystemdCommand } from './commands/install-systemd.command';
import { secretsSetPasswordCommand } from './commands/secrets.command';
import { servicesCommands } from './commands/services.command';
import { startCommand } from './commands/start.command';
import { rolloutCommands } from './commands/rollout.command';
import { upgradesCommands } from './commands/upgrades.command';
import { podCommand, wrapCommand } from './commands/wrap.command';

export const COMMANDS: readonly CliCommand[] = [
  initCommand,
  createServiceCommand,
  startCommand,
  wrapCommand,
  podCommand,
  ...servicesCommands,
  ...upgradesCommands,
  ...rolloutCommands,
  secretsSetPasswordCommand,
  installSystemdCommand,
] as unknown as CliCommand[];

runMain('fleetvisor', COMMANDS, 'fleetvisor service-runner — supervises this host\'s services and upgrades them on VersionChanged.');
