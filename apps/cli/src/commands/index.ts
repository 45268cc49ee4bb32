// Every `fleetvisor` command, in the order `--help` lists them.
import type { CliCommand } from '@fleetvisor/platform';
import { eventsAppendCommand } from './events-append.command';
import { eventsDeadLettersCommand } from './events-dead-letters.command';
import { eventsRebuildCommand } from './events-rebuild.command';
import { eventsTailCommand } from './events-tail.command';
import { migrateCommand } from './migrate.command';
import { upCommand } from './up.command';

export const PREAMBLE = 'fleetvisor — one control plane for blockchain infrastructure fleets (event log, bus, services).';

export const COMMANDS: readonly CliCommand[] = [upCommand, migrateCommand, eventsTailCommand, eventsAppendCommand, eventsRebuildCommand, eventsDeadLettersCommand] as unknown as CliCommand[];
