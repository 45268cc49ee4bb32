// Every command Fleetvisor defines (NATS request-reply on <root>.cmd.<service>.<verb>, or
// <root>.cmd.<service>.<instance>.<verb> for one worker-agent).
import type { CommandDefinition } from '../commands';
import { ChainLeaderStatus, ChainProvingMiner, ChainRolloutAbort, ChainRolloutAdmit, ChainRolloutResume, ChainRolloutStatus, ChainStatus, ChainVersionEvent } from './chain-watcher';
import { EventIntakeAppend } from './event-intake';
import { ChainProvingLeaderStatus } from './proving-status';
import { ServiceControl, ServiceLogs, ServicesList, ServicesStatus, UpgradeRetry, UpgradeRollback, UpgradesList, UpgradesShow } from './service-runner';
import { AgentDrain, AgentPause, AgentResume, AgentThreadList, WorkerReportCommand } from './worker-agent';
import { AgentProvingCheck, ChainProvingSectors } from './proving-check';
import { StatsAnomalies, StatsBands, StatsCalls, StatsPush, StatsTop } from './stats-collector';
import { HostHeartbeat, HostsList, WorkerDrain, WorkerErrors, WorkerHistory, WorkerInfo, WorkerList, WorkerListPage, WorkerPause, WorkerRemove, WorkerResume } from './worker-registry';

export * from './service-runner';
export * from './worker-registry';
export * from './worker-agent';
export * from './chain-watcher';
export * from './proving-status';
export * from './event-intake';
export * from './stats-collector';
export * from './proving-check';

export const COMMAND_DEFINITIONS = {
  WorkerList,
  WorkerInfo,
  WorkerPause,
  WorkerResume,
  WorkerDrain,
  WorkerRemove,
  WorkerHistory,
  WorkerErrors,
  WorkerListPage,
  WorkerReportCommand,
  AgentThreadList,
  AgentPause,
  AgentResume,
  AgentDrain,
  ServicesList,
  ServicesStatus,
  ServiceControl,
  ServiceLogs,
  UpgradesList,
  UpgradesShow,
  UpgradeRetry,
  UpgradeRollback,
  ChainStatus,
  ChainLeaderStatus,
  ChainVersionEvent,
  ChainProvingMiner,
  ChainProvingLeaderStatus,
  EventIntakeAppend,
  StatsPush,
  StatsCalls,
  StatsTop,
  StatsAnomalies,
  StatsBands,
  HostHeartbeat,
  HostsList,
  ChainRolloutAdmit,
  ChainRolloutStatus,
  ChainRolloutResume,
  ChainRolloutAbort,
  ChainProvingSectors,
  AgentProvingCheck,
} as const;

export const ALL_COMMANDS: readonly CommandDefinition[] = Object.values(COMMAND_DEFINITIONS);
