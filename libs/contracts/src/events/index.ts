// Every event type Fleetvisor knows, and the catalog built from them.
// A new event type: define it in its area's file, add it to EVENT_DEFINITIONS below, add an
// example to examples.ts, then run `npm run gen:schemas` (a unit test fails until you do).
import { EventCatalog } from '../catalog';
import type { EventDefinition, EventOf } from '../define-event';
import { ChainAnomaly, UpgradePlanned, VersionChanged } from './chain';
import { ForgeryRejected, HostExpired, HostOffline, HostOnline, HostReturned } from './host';
import {
  ServiceCrashLooping,
  ServiceCreated,
  ServiceExited,
  ServiceRestarted,
  ServiceStarted,
  ServiceStopped,
  ServiceUpgraded,
  UpgradeFailed,
  UpgradeRolledBack,
  UpgradeStarted,
  VersionQuarantined,
  QuarantineLifted,
  CanaryChecked,
  ServiceNeedsAttention,
} from './service';
import { RolloutAborted, RolloutCompleted, RolloutHalted, RolloutHostAdmitted, RolloutHostHealthy, RolloutHostWaiting, RolloutResumed, RolloutStarted, RolloutWaveStarted } from './rollout';
import { ApiCallsRecorded, CallRateAnomaly, CallRateRecovered } from './stats';
import { ProvingDeadlineAtRisk, SectorsFaulted, SectorsRecovered, WindowPoStMissed } from './proving';
import {
  ThreadPaused,
  ThreadResumed,
  ThreadStateChanged,
  WorkerDrainFinished,
  WorkerDrainStarted,
  WorkerExpired,
  WorkerRegistered,
  WorkerRemoved,
  WorkerReachable,
  WorkerReturned,
  WorkerUnreachable,
  WorkerUpdated,
} from './worker';

export * from './chain';
export * from './host';
export * from './rollout';
export * from './service';
export * from './stats';
export * from './proving';
export * from './worker';

/** Every event definition by type name, grouped by area. */
export const EVENT_DEFINITIONS = {
  // host
  HostOnline,
  HostOffline,
  // chain
  VersionChanged,
  UpgradePlanned,
  ChainAnomaly,
  // service
  ServiceCreated,
  ServiceStarted,
  ServiceExited,
  ServiceRestarted,
  ServiceCrashLooping,
  ServiceStopped,
  UpgradeStarted,
  ServiceUpgraded,
  UpgradeFailed,
  UpgradeRolledBack,
  // worker
  WorkerRegistered,
  WorkerUpdated,
  ThreadStateChanged,
  ThreadPaused,
  ThreadResumed,
  WorkerExpired,
  WorkerReturned,
  WorkerUnreachable,
  WorkerReachable,
  WorkerRemoved,
  WorkerDrainStarted,
  WorkerDrainFinished,
  // stats
  ApiCallsRecorded,
  // service (added later; at the end so that the examples' ids of the others stay as they are)
  VersionQuarantined,
  QuarantineLifted,
  // host (added later)
  ForgeryRejected,
  // stats (added later, same reason)
  CallRateAnomaly,
  CallRateRecovered,
  // host (added later, same reason)
  HostExpired,
  HostReturned,
  // service (added later, same reason)
  CanaryChecked,
  // chain: fleet-wide rollouts (added later, same reason)
  RolloutStarted,
  RolloutWaveStarted,
  RolloutHostAdmitted,
  RolloutHostWaiting,
  RolloutHostHealthy,
  RolloutHalted,
  RolloutResumed,
  RolloutAborted,
  RolloutCompleted,
  // miner: the Filecoin proving watch (added later, same reason)
  SectorsFaulted,
  SectorsRecovered,
  WindowPoStMissed,
  ProvingDeadlineAtRisk,
  // service: venus daily checks (added later, same reason)
  ServiceNeedsAttention,
} as const;

type Definitions = typeof EVENT_DEFINITIONS;

/** Any Fleetvisor event at its current version; `switch (e.type)` narrows `data`. */
export type FleetEvent = { [K in keyof Definitions]: EventOf<Definitions[K]> }[keyof Definitions];
export type FleetEventType = FleetEvent['type'];
export type FleetEventOfType<T extends FleetEventType> = Extract<FleetEvent, { type: T }>;

export const ALL_EVENTS: readonly EventDefinition[] = Object.values(EVENT_DEFINITIONS);

export const fleetEvents = new EventCatalog(ALL_EVENTS);
