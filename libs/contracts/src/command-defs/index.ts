// Every command Fleetvisor defines (NATS request-reply on <root>.cmd.<service>.<verb>, or
// <root>.cmd.<service>.<instance>.<verb> for one worker-agent).
import type { CommandDefinition } from '../commands';
import { ServicesList, ServicesStatus } from './service-runner';
import { AgentDrain, AgentPause, AgentResume, AgentThreadList, WorkerReportCommand } from './worker-agent';
import { WorkerDrain, WorkerInfo, WorkerList, WorkerPause, WorkerRemove, WorkerResume } from './worker-registry';

export * from './service-runner';
export * from './worker-registry';
export * from './worker-agent';

export const COMMAND_DEFINITIONS = {
  WorkerList,
  WorkerInfo,
  WorkerPause,
  WorkerResume,
  WorkerDrain,
  WorkerRemove,
  WorkerReportCommand,
  AgentThreadList,
  AgentPause,
  AgentResume,
  AgentDrain,
  ServicesList,
  ServicesStatus,
} as const;

export const ALL_COMMANDS: readonly CommandDefinition[] = Object.values(COMMAND_DEFINITIONS);
