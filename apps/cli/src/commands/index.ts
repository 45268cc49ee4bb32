// Every `fleetvisor` command, in the order `--help` lists them. Each is listed by its words and
// summary; its module (and what it needs: the bus, the log, Nest) loads only when it is run, so
// `--help` and a mistyped command start in a blink (command-index.spec.ts checks the two agree).
import { defineCliCommand, lazyCommand, type CliCommand, type CliEntry } from '@fleetvisor/platform/cli';
import { APP_ROUTES, handOverToApp } from '../app-routes';

// Service apps' words: listed here for --help; main.ts hands the process over to the app before this
// module is loaded, so `run` is reached only if this list is used without main.ts.
function app(words: string): CliCommand {
  const route = APP_ROUTES.find((r) => r.path.join(' ') === words);
  if (!route) throw new Error(`no app route "${words}"`);
  return defineCliCommand({
    path: [...route.path],
    summary: route.summary,
    ...(route.args ? { args: route.args } : {}),
    options: {},
    passThrough: true,
    run: () => {
      handOverToApp(route.app);
      return new Promise<number>(() => undefined);
    },
  }) as unknown as CliCommand;
}

export const PREAMBLE = 'fleetvisor — one control plane for blockchain infrastructure fleets (event log, bus, services).';

export const COMMANDS: readonly CliEntry[] = [
  lazyCommand({ path: ['up'], summary: 'Run Fleetvisor on this machine: backbone, local chain, chain-watcher, worker registry, simulated workers', load: async () => (await import('./up.command')).upCommand }),
  lazyCommand({ path: ['migrate'], summary: 'Create the database and the JetStream streams if missing, and bring both to this version', load: async () => (await import('./migrate.command')).migrateCommand }),
  lazyCommand({ path: ['nats-config'], summary: 'Write a nats-server configuration with one NKey user per Fleetvisor identity and least-privilege permissions', load: async () => (await import('./nats-config.command')).natsConfigCommand }),
  lazyCommand({ path: ['keys', 'init'], summary: "Make the fleet's admin root key (offline): the key file and the trust root to give every process", load: async () => (await import('./keys.command')).keysInitCommand }),
  lazyCommand({ path: ['keys', 'create'], summary: 'Make a key with a role (read, operate, admin, chain-watcher, service, gateway), certified by the root key', load: async () => (await import('./keys.command')).keysCreateCommand }),
  lazyCommand({ path: ['keys', 'list'], summary: "The fleet's key certificates and revocations (from the key bucket)", load: async () => (await import('./keys.command')).keysListCommand }),
  lazyCommand({ path: ['keys', 'revoke'], args: '<kid>', summary: 'Revoke a key: every process refuses it from the moment the revocation reaches it (over the bus)', load: async () => (await import('./keys.command')).keysRevokeCommand }),
  lazyCommand({ path: ['events', 'tail'], summary: 'Print events from the log as they are recorded (live), or from a position', load: async () => (await import('./events-tail.command')).eventsTailCommand }),
  lazyCommand({ path: ['events', 'append'], summary: 'Append one event to a stream (validated against its contract)', load: async () => (await import('./events-append.command')).eventsAppendCommand }),
  lazyCommand({ path: ['events', 'rebuild'], summary: 'Rebuild a projection from the event log, with a progress bar', args: '<projection>', load: async () => (await import('./events-rebuild.command')).eventsRebuildCommand }),
  lazyCommand({ path: ['events', 'dead-letters'], summary: 'List messages consumers dead-lettered, with the reason', load: async () => (await import('./events-dead-letters.command')).eventsDeadLettersCommand }),
  lazyCommand({ path: ['devnet', 'start'], summary: 'Run a local chain node speaking CometBFT 0.38 RPC (for the demo, tests, benchmarks)', load: async () => (await import('./devnet-start.command')).devnetStartCommand }),
  lazyCommand({ path: ['devnet', 'status'], summary: 'Show a running devnet: height, version params, upgrade plan, faults, request counts', load: async () => (await import('./devnet-status.command')).devnetStatusCommand }),
  lazyCommand({ path: ['devnet', 'set-version'], summary: 'Change Lava\'s protocol version params on a running devnet (lands in the next block)', load: async () => (await import('./devnet-set-version.command')).devnetSetVersionCommand }),
  lazyCommand({ path: ['devnet', 'schedule-upgrade'], summary: 'Set the x/upgrade plan of a running devnet (lands in the next block)', load: async () => (await import('./devnet-schedule-upgrade.command')).devnetScheduleUpgradeCommand }),
  lazyCommand({ path: ['devnet', 'cancel-upgrade'], summary: 'Clear the x/upgrade plan of a running devnet (lands in the next block)', load: async () => (await import('./devnet-schedule-upgrade.command')).devnetCancelUpgradeCommand }),
  lazyCommand({ path: ['devnet', 'fault'], summary: 'Switch fault injection on a running devnet (drop WebSockets, delay/fail answers, bad Params)', load: async () => (await import('./devnet-fault.command')).devnetFaultCommand }),
  lazyCommand({ path: ['devnet', 'filecoin', 'start'], summary: 'Run a simulated Filecoin node (Lotus JSON-RPC: deadlines, partitions, faults) for the proving watch', load: async () => (await import('./devnet-filecoin.command')).devnetFilecoinStartCommand }),
  lazyCommand({ path: ['chain', 'status'], summary: 'Height, protocol version, endpoint and lag of each watched chain; epoch, watch mode and miners of each Filecoin chain (asks the chain-watcher)', load: async () => (await import('./chain-status.command')).chainStatusCommand }),
  lazyCommand({ path: ['proving', 'info'], summary: "A miner's proving period and current deadline: epochs, sectors, faults, recoveries (asks the chain-watcher)", load: async () => (await import('./proving.command')).provingInfoCommand }),
  lazyCommand({ path: ['proving', 'deadlines'], summary: "Every deadline of a miner's proving period: partitions, sectors, faults, proven partitions (asks the chain-watcher)", load: async () => (await import('./proving.command')).provingDeadlinesCommand }),
  lazyCommand({ path: ['proving', 'deadline'], args: '<index>', summary: 'One deadline of a miner: its partitions, their sectors, faulty and recovering sectors (asks the chain-watcher)', load: async () => (await import('./proving.command')).provingDeadlineCommand }),
  lazyCommand({ path: ['proving', 'faults'], summary: "A miner's faulty sectors with their deadline and partition (asks the chain-watcher)", load: async () => (await import('./proving.command')).provingFaultsCommand }),
  lazyCommand({ path: ['proving', 'check'], args: '<deadline>', summary: "Check the files of a deadline's sectors on every worker-agent: sealed and cache files present, readable, the right size", load: async () => (await import('./proving.command')).provingCheckCommand }),
  lazyCommand({ path: ['chain', 'versions'], summary: 'Protocol version history of a chain, from the event log', load: async () => (await import('./chain-versions.command')).chainVersionsCommand }),
  app('chain-watcher'),
  lazyCommand({ path: ['worker', 'list'], summary: 'Every sealing worker: threads, empty, paused, running, waiting, errors, last ping', load: async () => (await import('./worker-list.command')).workerListCommand }),
  lazyCommand({ path: ['worker', 'info'], summary: 'Every thread of one worker: index, location, sector, plan, paused, state, stage, last error', args: '<worker>', load: async () => (await import('./worker-info.command')).workerInfoCommand }),
  lazyCommand({ path: ['worker', 'pause'], summary: 'Pause one sealing thread (proxied to the worker agent, recorded with who asked)', args: '<worker> <index>', load: async () => (await import('./worker-pause.command')).workerPauseCommand }),
  lazyCommand({ path: ['worker', 'resume'], summary: 'Resume one paused thread, in its current state or in <state> (must be a state of its plan)', args: '<worker> <index> [<state>]', load: async () => (await import('./worker-resume.command')).workerResumeCommand }),
  lazyCommand({ path: ['worker', 'drain'], summary: 'Drain a worker: every thread pauses at its next state boundary; --wait shows progress until all are paused', args: '<worker>', load: async () => (await import('./worker-drain.command')).workerDrainCommand }),
  lazyCommand({ path: ['worker', 'remove'], summary: 'Forget a worker (it registers anew if it reports again)', args: '<worker>', load: async () => (await import('./worker-remove.command')).workerRemoveCommand }),
  lazyCommand({ path: ['worker', 'history'], summary: 'Every transition, pause and resume of a worker, a thread or a sector, with its time (from the log)', args: '<worker> [--index N] | --sector <id>', load: async () => (await import('./worker-history.command')).workerHistoryCommand }),
  lazyCommand({ path: ['worker', 'errors'], summary: 'Every sealing thread of the fleet that has a last error', load: async () => (await import('./worker-errors.command')).workerErrorsCommand }),
  lazyCommand({ path: ['hosts', 'list'], summary: 'Every runner host: online, silent since when (no heartbeat), or offline (asks the worker-registry)', load: async () => (await import('./hosts-list.command')).hostsListCommand }),
  app('worker-registry'),
  lazyCommand({ path: ['worker-agent', 'list'], summary: 'List a worker\'s sealing threads, from its worker-agent', load: async () => (await import('./worker-agent-list.command')).workerAgentListCommand }),
  lazyCommand({ path: ['worker-agent', 'pause'], summary: 'Pause one sealing thread through its worker-agent', load: async () => (await import('./worker-agent-pause.command')).workerAgentPauseCommand }),
  lazyCommand({ path: ['worker-agent', 'resume'], summary: 'Resume one paused sealing thread, optionally in another state of its plan', load: async () => (await import('./worker-agent-resume.command')).workerAgentResumeCommand }),
  lazyCommand({ path: ['worker-agent', 'drain'], summary: 'Drain a worker through its agent: each thread pauses at its next state boundary', load: async () => (await import('./worker-agent-drain.command')).workerAgentDrainCommand }),
  app('worker-agent run'),
  app('init'),
  app('create-service'),
  app('start'),
  app('wrap'),
  app('pod'),
  app('services'),
  app('upgrades'),
  app('secrets'),
  lazyCommand({ path: ['install-systemd'], args: '<service>', summary: 'Write a hardened systemd unit for a service: service-runner, chain-watcher, worker-registry, stats-collector, gateway, worker-agent', load: async () => (await import('./install-systemd.command')).installSystemdCommand }),
  lazyCommand({ path: ['stats', 'calls'], summary: 'API calls over time per caller, component or method, as a terminal chart with totals', load: async () => (await import('./stats-calls.command')).statsCallsCommand }),
  lazyCommand({ path: ['stats', 'top'], summary: 'The busiest callers, components or methods, with errors and latency percentiles', load: async () => (await import('./stats-top.command')).statsTopCommand }),
  lazyCommand({ path: ['stats', 'anomalies'], summary: "Callers whose message-sending rate left its steady band (CallRateAnomaly), newest first", load: async () => (await import('./stats-anomalies.command')).statsAnomaliesCommand }),
  app('stats-collector'),
  app('meter'),
  app('gateway'),
  app('token'),
];
