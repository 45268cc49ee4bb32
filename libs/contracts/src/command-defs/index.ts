// Every command Fleetvisor defines (NATS request-reply on <root>.cmd.<service>.<verb>).
import type { CommandDefinition } from '../commands';
import { ServicesList, ServicesStatus } from './service-runner';
import { WorkerDrain, WorkerInfo, WorkerList, WorkerPause, WorkerRemove, WorkerResume } from './worker-registry';

export * from './service-runner';
export * from './worker-registry';

export const COMMAND_DEFINITIONS = {
  WorkerList,
  WorkerInfo,
  WorkerPause,
  WorkerResume,
  WorkerDrain,
  WorkerRemove,
  ServicesList,
  ServicesStatus,
} as const;

export const ALL_COMMANDS: readonly CommandDefinition[] = Object.values(COMMAND_DEFINITIONS);
