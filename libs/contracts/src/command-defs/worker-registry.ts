// worker-registry commands (fleet.cmd.worker-registry.<verb>): what `fleetvisor worker ...` and
// the gateway ask. Pause/resume/drain/remove are proxied to the worker's agent and recorded as
// events with their actor. Errors: not_found names the workers (or indexes) that exist;
// invalid_request for a resume state outside the thread's plan lists the valid states.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { Actor, BinaryVersion, DateTime, DurationMs, Reason, StateName, StringEnum, ThreadIndex, WorkerName } from '../fields';
import { SealingPlanField, SectorId, WorkerDest } from '../events/worker';

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
  },
  { additionalProperties: false, description: 'One line of `worker list`' },
);
export type WorkerSummary = Static<typeof WorkerSummarySchema>;

export const THREAD_RUN_STATES = ['idle', 'paused', 'running', 'waiting'] as const;

export const ThreadInfoSchema = Type.Object(
  {
    index: ThreadIndex(),
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Local store location' })),
    sectorId: Type.Optional(SectorId()),
    plan: SealingPlanField(),
    threadState: StringEnum(THREAD_RUN_STATES, 'idle, paused, running or waiting'),
    elapsedMs: Type.Optional(DurationMs('Time in threadState (PausedElapsed when paused)')),
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
  description: 'Pause one thread (ThreadPaused, reason manual). changed=false when it was already paused.',
  request: Type.Object({ worker: WorkerRef(), index: ThreadIndex(), actor: Type.Optional(Actor()) }, { additionalProperties: false }),
  result: Type.Object({ worker: WorkerName(), index: ThreadIndex(), changed: Type.Boolean() }, { additionalProperties: false }),
});

export const WorkerResume = defineCommand({
  service: SERVICE,
  verb: 'resume',
  description: 'Resume one paused thread in its current state, or in `state` (which must be a state of the thread\'s plan).',
  request: Type.Object(
    { worker: WorkerRef(), index: ThreadIndex(), state: Type.Optional(StateName()), actor: Type.Optional(Actor()) },
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
  description: 'Start draining a worker: each thread pauses at its next state boundary. Asking again reports progress.',
  request: Type.Object({ worker: WorkerRef(), actor: Type.Optional(Actor()) }, { additionalProperties: false }),
  result: Type.Object(
    { worker: WorkerName(), threads: Count('Threads'), paused: Count('Threads paused so far'), finished: Type.Boolean() },
    { additionalProperties: false },
  ),
});

export const WorkerRemove = defineCommand({
  service: SERVICE,
  verb: 'remove',
  description: 'Forget a worker (WorkerRemoved); it registers anew if it reports again.',
  request: Type.Object({ worker: WorkerRef(), actor: Type.Optional(Actor()) }, { additionalProperties: false }),
  result: Type.Object({ worker: WorkerName(), removed: Type.Boolean() }, { additionalProperties: false }),
});
