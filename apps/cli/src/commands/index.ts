// Every `fleetvisor` command, in the order `--help` lists them.
import { defineCliCommand, type CliCommand } from '@fleetvisor/platform';
import { APP_ROUTES, handOverToApp } from '../app-routes';
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

// Service apps' words: listed in --help here; main.ts hands the process over to the app before this
// module is even loaded, so `run` is reached only if this list is used without main.ts.
const appCommands = new Map(
  APP_ROUTES.map((route) => [
    route.path.join(' '),
    defineCliCommand({
      path: [...route.path],
      summary: route.summary,
      ...(route.args ? { args: route.args } : {}),
      options: {},
      passThrough: true,
      run: () => {
        handOverToApp(route.app);
        return new Promise<number>(() => undefined);
      },
    }) as unknown as CliCommand,
  ]),
);
const app = (words: string): CliCommand => {
  const cmd = appCommands.get(words);
  if (!cmd) throw new Error(`no app route "${words}"`);
  return cmd;
};

const workerAgentCommands = [workerAgentListCommand, workerAgentPauseCommand, workerAgentResumeCommand, workerAgentDrainCommand, app('worker-agent run')];
const workerCommands = [workerListCommand, workerInfoCommand, workerPauseCommand, workerResumeCommand, workerDrainCommand, workerRemoveCommand, workerHistoryCommand, workerErrorsCommand, app('worker-registry')];
const serviceRunnerCommands = ['init', 'create-service', 'start', 'wrap', 'services', 'secrets', 'install-systemd'].map(app);

export const PREAMBLE = 'fleetvisor — one control plane for blockchain infrastructure fleets (event log, bus, services).';

export const COMMANDS: readonly CliCommand[] = [upCommand, migrateCommand, eventsTailCommand, eventsAppendCommand, eventsRebuildCommand, eventsDeadLettersCommand, devnetStartCommand, devnetStatusCommand, devnetSetVersionCommand, devnetScheduleUpgradeCommand, devnetCancelUpgradeCommand, devnetFaultCommand, chainStatusCommand, chainVersionsCommand, app('chain-watcher'), ...workerCommands, ...workerAgentCommands, ...serviceRunnerCommands] as unknown as CliCommand[];
