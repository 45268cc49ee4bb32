// Every `fleetvisor` command, in the order `--help` lists them.
import { appCommand, type CliCommand } from '@fleetvisor/platform';
import { eventsAppendCommand } from './events-append.command';
import { eventsDeadLettersCommand } from './events-dead-letters.command';
import { eventsRebuildCommand } from './events-rebuild.command';
import { eventsTailCommand } from './events-tail.command';
import { migrateCommand } from './migrate.command';
import { upCommand } from './up.command';
import { chainStatusCommand } from './chain-status.command';
import { chainVersionsCommand } from './chain-versions.command';
import { devnetStartCommand } from './devnet-start.command';
import { devnetSetVersionCommand } from './devnet-set-version.command';
import { devnetCancelUpgradeCommand, devnetScheduleUpgradeCommand } from './devnet-schedule-upgrade.command';
import { devnetFaultCommand } from './devnet-fault.command';
import { devnetStatusCommand } from './devnet-status.command';
import { workerListCommand } from './worker-list.command';
import { workerInfoCommand } from './worker-info.command';
import { workerPauseCommand } from './worker-pause.command';
import { workerResumeCommand } from './worker-resume.command';
import { workerDrainCommand } from './worker-drain.command';
import { workerRemoveCommand } from './worker-remove.command';
import { workerHistoryCommand } from './worker-history.command';
import { workerErrorsCommand } from './worker-errors.command';
import { workerAgentListCommand } from './worker-agent-list.command';
import { workerAgentPauseCommand } from './worker-agent-pause.command';
import { workerAgentResumeCommand } from './worker-agent-resume.command';
import { workerAgentDrainCommand } from './worker-agent-drain.command';

const chainWatcherCommand = appCommand({ path: ['chain-watcher'], app: 'chain-watcher', summary: 'Run the chain-watcher: one watch of each chain for the whole fleet (chain-watcher run --help)' });

const workerRegistryCommand = appCommand({ path: ['worker-registry'], app: 'worker-registry', summary: 'Run the worker registry, or rebuild its projection (worker-registry run|rebuild --help)' });
const workerAgentRunCommand = appCommand({ path: ['worker-agent', 'run'], app: 'worker-agent', summary: 'Run the worker-agent beside a sealing worker: reports its threads, executes pause/resume/drain (worker-agent run --help)' });
const workerAgentCommands = [workerAgentListCommand, workerAgentPauseCommand, workerAgentResumeCommand, workerAgentDrainCommand, workerAgentRunCommand];
const workerCommands = [workerListCommand, workerInfoCommand, workerPauseCommand, workerResumeCommand, workerDrainCommand, workerRemoveCommand, workerHistoryCommand, workerErrorsCommand, workerRegistryCommand];

// service-runner: every word below runs apps/service-runner/src/main.ts with the same arguments.
const serviceRunnerCommands = [
  appCommand({ path: ['init'], app: 'service-runner', summary: 'Create the runner home (~/.fleetvisor), install and link the binary of the current protocol version (init --help)' }),
  appCommand({ path: ['create-service'], app: 'service-runner', args: 'provider|consumer <config.yml>', summary: 'Define a lavap provider/consumer service from its config file (create-service --help)' }),
  appCommand({ path: ['start'], app: 'service-runner', summary: 'Run the service-runner: supervise this host\'s services, upgrade on VersionChanged (start --help)' }),
  appCommand({ path: ['wrap'], app: 'service-runner', summary: 'Supervise one process, for containers (wrap --cmd "<binary args>")' }),
  appCommand({ path: ['services'], app: 'service-runner', summary: 'Services of this host or the fleet: services list|status|restart|stop|start|logs (--help)' }),
  appCommand({ path: ['secrets'], app: 'service-runner', summary: 'Store the keyring password encrypted at rest (secrets set-password --help)' }),
  appCommand({ path: ['install-systemd'], app: 'service-runner', summary: 'Write a systemd unit for the service-runner (install-systemd --help)' }),
];

export const PREAMBLE = 'fleetvisor — one control plane for blockchain infrastructure fleets (event log, bus, services).';

export const COMMANDS: readonly CliCommand[] = [upCommand, migrateCommand, eventsTailCommand, eventsAppendCommand, eventsRebuildCommand, eventsDeadLettersCommand, devnetStartCommand, devnetStatusCommand, devnetSetVersionCommand, devnetScheduleUpgradeCommand, devnetCancelUpgradeCommand, devnetFaultCommand, chainStatusCommand, chainVersionsCommand, chainWatcherCommand, ...workerCommands, ...workerAgentCommands, ...serviceRunnerCommands] as unknown as CliCommand[];
