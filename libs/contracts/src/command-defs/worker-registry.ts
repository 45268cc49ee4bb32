// worker-registry commands (fleet.cmd.worker-registry.<verb>): what `fleetvisor worker ...` and
// the gateway ask. Pause/resume/drain are proxied to the worker's agent and, like remove, recorded
// as events whose actor is the verified signer of the command (ADR 0006; `role` on each). Errors: not_found names the workers (or indexes) that exist;
// invalid_request for a resume state outside the thread's plan lists the valid states.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { Actor, BinaryVersion, DateTime, DurationMs, HostName, Reason, StateName, StringEnum, ThreadIndex, WorkerName } from '../fields';
import { FailureSchema, PAUSE_REASONS, SealingPlanField, SectorId, WorkerDest } from '../events/worker';

const SERVICE = 'worker-registry';

/** A worker named by instance name or by address (dest), as damocles' `util worker` accepts. */
export const WorkerRef = () => Type.String({ minLength: 1, maxLength: 512, pattern: '^[^\\s@]+$', description: 'Worker instance name or address' });

const Count = (description: string) => Type.Integer({ minimum: 0, maximum: 65_536, description });

export const WorkerSummarySchema = Type.Object(
  {
    name: WorkerName(),
    dest: WorkerDest(),
    version: BinaryVersion({ description: 'Worker software version' }),
    threads: Count('Sealing threads'),
    empty: Count('Threads in state Empty'),
    paused: Count('Paused threads'),
    running: Count('Threads running a task'),
    waiting: Count('Threads waiting (for a resource or the chain)'),
    errors: Count('Threads with a last error'),
    lastPing: DateTime({ description: 'Last report' }),
    expired: Type.Boolean({ description: 'Silent past the expiration (shown as LastPing!)' }),
    draining: Type.Boolean({ description: 'A drain is in progress' }),
    unreachable: Type.Optional(Reason({ description: "The agent reports, but the worker's admin API does not answer it: the error (WorkerUnreachable)" })),
  },
  { additionalProperties: false, description: 'One line of `worker list`' },
);
export type WorkerSummary = Static<typeof WorkerSummarySchema>;

/** `unknown`: the registry cannot know (the worker is expired, or its agent cannot reach it); agents do not send it. */
export const THREAD_RUN_STATES = ['idle', 'paused', 'running', 'waiting', 'unknown'] as const;

export const ThreadInfoSchema = Type.Object(
  {
    index: ThreadIndex(),
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Local store location' })),
    sectorId: Type.Optional(SectorId()),
    plan: SealingPlanField(),
    threadState: StringEnum(THREAD_RUN_STATES, 'idle, paused, running or waiting (unknown: the worker is expired or unreachable)'),
    elapsedMs: Type.Optional(DurationMs('Time in threadState (PausedElapsed when paused)')),
    pauseReason: Type.Optional(StringEnum(PAUSE_REASONS, 'Why a paused thread paused, when known (manual, error, drain)')),
    state: StateName({ description: 'Job state' }),
    stage: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Job stage, e.g. PC1' })),
    lastError: Type.Optional(Reason({ description: 'Last error, e.g. "permanent: ..."' })),
  },
  { additionalProperties: false, description: 'One line of `worker info`' },
);
export type ThreadInfo = Static<typeof ThreadInfoSchema>;

export const WorkerList = defineCommand({
  service: SERVICE,
  verb: 'list',
  description: 'Every known worker with thread counts and last ping (removed workers excluded).',
  request: Type.Object({}, { additionalProperties: false }),
  result: Type.Object({ workers: Type.Array(WorkerSummarySchema, { maxItems: 100_000 }) }, { additionalProperties: false }),
});

export const WorkerInfo = defineCommand({
  service: SERVICE,
  verb: 'info',
  description: 'One worker and every one of its threads.',
  request: Type.Object({ worker: WorkerRef() }, { additionalProperties: false }),
  result: Type.Object(
    { worker: WorkerSummarySchema, threads: Type.Array(ThreadInfoSchema, { maxItems: 65_536 }) },
    { additionalProperties: false },
  ),
});

export const WorkerPause = defineCommand({
  service: SERVICE,
  verb: 'pause',
  role: 'operate',
  description: 'Pause one thread (ThreadPaused, reason manual). changed=false when it was already paused.',
  request: Type.Object({ worker: WorkerRef(), index: ThreadIndex() }, { additionalProperties: false }),
  result: Type.Object({ worker: WorkerName(), index: ThreadIndex(), changed: Type.Boolean() }, { additionalProperties: false }),
});

export const WorkerResume = defineCommand({
  service: SERVICE,
  verb: 'resume',
  role: 'operate',
  description: 'Resume one paused thread in its current state, or in `state` (which must be a state of the thread\'s plan).',
  request: Type.Object(
    { worker: WorkerRef(), index: ThreadIndex(), state: Type.Optional(StateName()) },
    { additionalProperties: false },
  ),
  result: Type.Object(
    { worker: WorkerName(), index: ThreadIndex(), state: StateName({ description: 'State it resumed in' }), changed: Type.Boolean() },
    { additionalProperties: false },
  ),
});

export const WorkerDrain = defineCommand({
  service: SERVICE,
  verb: 'drain',
  role: 'operate',
  description: 'Start draining a worker: each thread pauses at its next state boundary. Asking again reports progress.',
  request: Type.Object({ worker: WorkerRef() }, { additionalProperties: false }),
  result: Type.Object(
    { worker: WorkerName(), threads: Count('Threads'), paused: Count('Threads paused so far'), finished: Type.Boolean() },
    { additionalProperties: false },
  ),
});

export const WorkerRemove = defineCommand({
  service: SERVICE,
  verb: 'remove',
  role: 'admin',
  description: 'Forget a worker (WorkerRemoved); it registers anew if it reports again.',
  request: Type.Object({ worker: WorkerRef() }, { additionalProperties: false }),
  result: Type.Object({ worker: WorkerName(), removed: Type.Boolean() }, { additionalProperties: false }),
});

// ---- read from the log: history and errors ----

export const HISTORY_ENTRY_TYPES = [
  'WorkerRegistered',
  'WorkerUpdated',
  'ThreadStateChanged',
  'ThreadPaused',
  'ThreadResumed',
  'WorkerExpired',
  'WorkerReturned',
  'WorkerUnreachable',
  'WorkerReachable',
  'WorkerRemoved',
  'WorkerDrainStarted',
  'WorkerDrainFinished',
] as const;

export const WorkerHistoryEntrySchema = Type.Object(
  {
    at: DateTime({ description: 'When it happened' }),
    worker: WorkerName(),
    type: StringEnum(HISTORY_ENTRY_TYPES, 'Event type'),
    index: Type.Optional(ThreadIndex()),
    sectorId: Type.Optional(SectorId()),
    plan: Type.Optional(SealingPlanField()),
    prev: Type.Optional(StateName({ description: 'State before (ThreadStateChanged)' })),
    next: Type.Optional(StateName({ description: 'State after (ThreadStateChanged), or the state resumed to' })),
    event: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Planner event, or what the registry saw' })),
    failure: Type.Optional(FailureSchema),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Pause reason, error, or what changed' })),
    actor: Type.Optional(Actor()),
  },
  { additionalProperties: false, description: 'One line of `worker history`' },
);
export type WorkerHistoryEntry = Static<typeof WorkerHistoryEntrySchema>;

export const WorkerHistory = defineCommand({
  service: SERVICE,
  verb: 'history',
  description:
    'Every recorded change of one worker (optionally one thread), or of one sector across the fleet, with its time, read from the event log. Exactly one of worker / sectorId.',
  request: Type.Object(
    {
      worker: Type.Optional(WorkerRef()),
      index: Type.Optional(ThreadIndex()),
      sectorId: Type.Optional(SectorId()),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'At most the last n entries (default 1000)' })),
    },
    { additionalProperties: false },
  ),
  result: Type.Object(
    {
      entries: Type.Array(WorkerHistoryEntrySchema, { maxItems: 10_000 }),
      truncated: Type.Boolean({ description: 'Older entries were left out (limit)' }),
    },
    { additionalProperties: false },
  ),
});

export const WorkerThreadErrorSchema = Type.Object(
  {
    worker: WorkerName(),
    index: ThreadIndex(),
    plan: SealingPlanField(),
    state: StateName(),
    sectorId: Type.Optional(SectorId()),
    paused: Type.Boolean(),
    lastError: Reason({ description: 'The error, e.g. "permanent: ..."' }),
    expired: Type.Boolean({ description: 'The worker is silent past the expiration' }),
  },
  { additionalProperties: false, description: 'One line of `worker errors`' },
);

export const WorkerErrors = defineCommand({
  service: SERVICE,
  verb: 'errors',
  description: 'Every thread of the fleet that has a last error, worker by worker.',
  request: Type.Object({}, { additionalProperties: false }),
  result: Type.Object({ threads: Type.Array(WorkerThreadErrorSchema, { maxItems: 1_000_000 }) }, { additionalProperties: false }),
});

/** Workers per `list-page` reply at most: a page stays far below NATS's default 1 MB max payload. */
export const WORKER_LIST_PAGE_MAX = 1_000;

export const WorkerListPage = defineCommand({
  service: SERVICE,
  verb: 'list-page',
  description:
    'One page of `worker list`, in name order, for fleets whose whole list does not fit one NATS message: pass `after` = `next` of the previous page until it is absent.',
  request: Type.Object(
    {
      after: Type.Optional(WorkerName({ description: 'Start after this worker name (the previous page\'s next)' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: WORKER_LIST_PAGE_MAX, description: 'Workers per page (default and max 1000)' })),
    },
    { additionalProperties: false },
  ),
  result: Type.Object(
    {
      workers: Type.Array(WorkerSummarySchema, { maxItems: WORKER_LIST_PAGE_MAX }),
      next: Type.Optional(WorkerName({ description: 'Name to pass as `after` for the next page; absent on the last page' })),
      total: Type.Integer({ minimum: 0, description: 'Workers in the registry' }),
    },
    { additionalProperties: false },
  ),
});

// ---- host liveness: runner hosts report themselves (issue 14) ----

export const HOST_STATES = ['online', 'expired', 'offline'] as const;
export type HostState = (typeof HOST_STATES)[number];

export const HostHeartbeat = defineCommand({
  service: SERVICE,
  verb: 'host-heartbeat',
  scope: 'host',
  description:
    'A service-runner says its host is alive, scoped on <root>.cmd.worker-registry.host-heartbeat.<host>: a body naming another host is refused `forbidden`. ' +
    'A heartbeat after HostExpired records HostReturned; none for longer than the expiration records HostExpired.',
  request: Type.Object(
    {
      host: HostName({ description: 'The sending host; must equal the last token of the subject' }),
      fleetvisorVersion: Type.String({ minLength: 1, maxLength: 100, description: 'Fleetvisor version of the runner' }),
      services: Count('Services the runner supervises'),
      sentAt: DateTime({ description: 'When the runner sent it' }),
    },
    { additionalProperties: false },
  ),
  result: Type.Object({ host: HostName(), state: StringEnum(HOST_STATES, 'State of the host after this heartbeat') }, { additionalProperties: false }),
});

export const HostSummarySchema = Type.Object(
  {
    host: HostName(),
    state: StringEnum(HOST_STATES, 'online, expired (silent past the expiration) or offline (stopped cleanly)'),
    lastSeen: DateTime({ description: 'Last heartbeat (or HostOnline / HostOffline)' }),
    since: DateTime({ description: 'When it entered this state' }),
    version: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Fleetvisor version it last reported' })),
    services: Type.Optional(Count('Services it last reported')),
  },
  { additionalProperties: false, description: 'One line of `hosts list`' },
);
export type HostSummary = Static<typeof HostSummarySchema>;

export const HostsList = defineCommand({
  service: SERVICE,
  verb: 'hosts',
  description: 'Every runner host this registry heard of since it started: online, expired (silent, since when) or offline.',
  request: Type.Object({}, { additionalProperties: false }),
  result: Type.Object({ hosts: Type.Array(HostSummarySchema, { maxItems: 100_000 }) }, { additionalProperties: false }),
});
