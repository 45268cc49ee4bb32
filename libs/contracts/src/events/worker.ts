// Sealing workers (damocles / venus-worker) and their threads, as the worker-registry records
// them. Stream: worker-<name>. Heartbeats are not events: a report that changes nothing appends
// nothing.
import { Type } from '@sinclair/typebox';
import { defineEvent } from '../define-event';
import { Actor, BinaryVersion, DateTime, DurationMs, Reason, StateName, StringEnum, ThreadIndex, WorkerName } from '../fields';

// ---- sealing plans and their states (damocles-worker planners) ----

export const SEALING_PLANS = ['sealer', 'snapup', 'rebuild', 'unseal', 'wdpost'] as const;
export type SealingPlan = (typeof SEALING_PLANS)[number];

/** sealer: Empty -> ... -> Finished (SyntheticPoRepNeeded only for synthetic PoRep proofs); any state -> Aborted. */
export const SEALER_STATES = [
  'Empty',
  'Allocated',
  'DealsAcquired',
  'PieceAdded',
  'TreeDBuilt',
  'TicketAssigned',
  'PC1Done',
  'SyntheticPoRepNeeded',
  'PC2Done',
  'PCSubmitted',
  'PCLanded',
  'Persisted',
  'PersistanceSubmitted',
  'SeedAssigned',
  'C1Done',
  'C2Done',
  'ProofSubmitted',
  'Finished',
  'Aborted',
] as const;

/** snapup (SnapDeals): Empty -> Allocated -> PieceAdded -> TreeDBuilt -> SnapEncoded -> SnapProved -> Persisted -> Finished. */
export const SNAPUP_STATES = ['Empty', 'Allocated', 'PieceAdded', 'TreeDBuilt', 'SnapEncoded', 'SnapProved', 'Persisted', 'Finished', 'Aborted'] as const;

/** rebuild: re-seal a lost sector (and redo its snap update when it had one). */
export const REBUILD_STATES = [
  'Empty',
  'Allocated',
  'PieceAdded',
  'TreeDBuilt',
  'PC1Done',
  'SyntheticPoRepNeeded',
  'PC2Done',
  'SealedChecked',
  'SnapPieceAdded',
  'SnapTreeDBuilt',
  'SnapEncoded',
  'SnapDone',
  'Persisted',
  'Finished',
  'Aborted',
] as const;

/** unseal: Empty -> Allocated -> Unsealed -> Finished. */
export const UNSEAL_STATES = ['Empty', 'Allocated', 'Unsealed', 'Finished', 'Aborted'] as const;

/** wdpost (window PoSt): Empty -> Allocated -> Generated -> Finished. */
export const WDPOST_STATES = ['Empty', 'Allocated', 'Generated', 'Finished', 'Aborted'] as const;

export const PLAN_STATES: Readonly<Record<SealingPlan, readonly string[]>> = Object.freeze({
  sealer: SEALER_STATES,
  snapup: SNAPUP_STATES,
  rebuild: REBUILD_STATES,
  unseal: UNSEAL_STATES,
  wdpost: WDPOST_STATES,
});

export function isSealingPlan(plan: string): plan is SealingPlan {
  return (SEALING_PLANS as readonly string[]).includes(plan);
}

/** The states a thread of this plan can be in (and so be resumed to). Throws for an unknown plan. */
export function validStatesForPlan(plan: string): readonly string[] {
  if (!isSealingPlan(plan)) throw new Error(`unknown sealing plan "${plan}": expected one of ${SEALING_PLANS.join(', ')}`);
  return PLAN_STATES[plan];
}

export function isValidStateForPlan(plan: string, state: string): boolean {
  return isSealingPlan(plan) && PLAN_STATES[plan].includes(state);
}

/**
 * Whether a thread of `plan` can be in `state`: one of the plan's states for the plans Fleetvisor
 * knows; any state for another damocles plan (niporep, supra, a future one), whose states are
 * recorded as the worker gives them.
 */
export function stateFitsPlan(plan: string, state: string): boolean {
  return isSealingPlan(plan) ? PLAN_STATES[plan].includes(state) : true;
}

/** Why `state` does not fit `plan` (stateFitsPlan), or undefined. */
export function planStateProblem(plan: string, state: string): string | undefined {
  if (stateFitsPlan(plan, state)) return undefined;
  return `"${state}" is not a state of plan ${plan} (valid: ${PLAN_STATES[plan as SealingPlan].join(', ')})`;
}

// ---- field schemas ----

export const FAILURE_LEVELS = ['temporary', 'permanent', 'critical', 'abort'] as const;
export type FailureLevel = (typeof FAILURE_LEVELS)[number];

export const PAUSE_REASONS = ['manual', 'error', 'drain'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

export const WorkerDest = () =>
  Type.String({ minLength: 1, maxLength: 512, pattern: '^[^\\s@]+$', description: 'Address the worker admin API answers on (host:port or URL)' });
export const SectorId = () =>
  Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$', description: 'Sector id, e.g. s-t01000-42' });
/** damocles planner names are short lowercase words (sealer, snapup, niporep, ...). */
export const SEALING_PLAN_PATTERN = '^[a-z][a-z0-9_-]*$';
export const SealingPlanField = () =>
  Type.String({
    minLength: 1,
    maxLength: 32,
    pattern: SEALING_PLAN_PATTERN,
    description: `Sealing plan the thread runs: ${SEALING_PLANS.join(', ')}, or another damocles plan (niporep, supra, ...), whose states are recorded as the worker gives them`,
  });
export const FailureSchema = Type.Object(
  {
    level: StringEnum(FAILURE_LEVELS, 'temporary (retried), permanent / critical (thread pauses), abort (task dropped)'),
    desc: Reason({ description: 'The error as the worker reported it' }),
  },
  { additionalProperties: false, description: 'Failure reported with the transition' },
);

const byName = { streamPattern: 'worker-<name>', streamId: (d: { name: string }) => d.name };
const byWorker = { streamPattern: 'worker-<worker>', streamId: (d: { worker: string }) => d.worker };
const workerField = { worker: WorkerName({ description: 'Worker the thread belongs to' }), index: ThreadIndex() };

// ---- events ----

export const WorkerRegistered = defineEvent({
  type: 'WorkerRegistered',
  area: 'worker',
  description: 'A sealing worker reported for the first time (or again after WorkerRemoved).',
  ...byName,
  schema: Type.Object(
    {
      name: WorkerName(),
      dest: WorkerDest(),
      version: BinaryVersion({ description: 'Worker software version' }),
      threads: Type.Integer({ minimum: 0, maximum: 65_536, description: 'Number of sealing threads' }),
    },
    { additionalProperties: false },
  ),
});

export const WORKER_UPDATABLE_FIELDS = ['dest', 'version', 'threads'] as const;

export const WorkerUpdated = defineEvent({
  type: 'WorkerUpdated',
  area: 'worker',
  description: 'A worker reported a different address, version or thread count. Carries the new values of all three.',
  ...byName,
  schema: Type.Object(
    {
      name: WorkerName(),
      dest: WorkerDest(),
      version: BinaryVersion({ description: 'Worker software version' }),
      threads: Type.Integer({ minimum: 0, maximum: 65_536, description: 'Number of sealing threads' }),
      changed: Type.Array(StringEnum(WORKER_UPDATABLE_FIELDS), {
        minItems: 1,
        maxItems: 3,
        uniqueItems: true,
        description: 'Which of dest, version, threads changed',
      }),
    },
    { additionalProperties: false },
  ),
});

export const ThreadStateChanged = defineEvent({
  type: 'ThreadStateChanged',
  area: 'worker',
  description: 'A sealing thread moved from one state to another (prev and next are states of its plan; for a plan Fleetvisor does not know, as the worker gave them).',
  ...byWorker,
  schema: Type.Object(
    {
      ...workerField,
      location: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Local store location of the thread' })),
      plan: SealingPlanField(),
      sectorId: Type.Optional(SectorId()),
      prev: StateName({ description: 'State before' }),
      next: StateName({ description: 'State after' }),
      event: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Planner event that caused the transition' })),
      failure: Type.Optional(FailureSchema),
    },
    { additionalProperties: false },
  ),
  validate(d) {
    for (const field of ['prev', 'next'] as const) {
      const problem = planStateProblem(d.plan, d[field]);
      if (problem) return `${field} ${problem}`;
    }
    return undefined;
  },
});

export const ThreadPaused = defineEvent({
  type: 'ThreadPaused',
  area: 'worker',
  description:
    'A sealing thread paused: on request (manual), after a permanent/critical error (error, with lastError), or while draining (drain).',
  ...byWorker,
  schema: Type.Object(
    {
      ...workerField,
      reason: StringEnum(PAUSE_REASONS, 'Why it paused'),
      actor: Type.Optional(Actor()),
      lastError: Type.Optional(Reason({ description: 'The error that paused it, e.g. "permanent: ..."' })),
    },
    { additionalProperties: false },
  ),
  validate: (d) => (d.reason === 'error' && d.lastError === undefined ? 'lastError is required when reason is "error"' : undefined),
});

export const ThreadResumed = defineEvent({
  type: 'ThreadResumed',
  area: 'worker',
  description: 'A paused sealing thread resumed, in its current state or in `state` (checked against its plan by the registry).',
  ...byWorker,
  schema: Type.Object(
    {
      ...workerField,
      state: Type.Optional(StateName({ description: 'State it was resumed to; absent = where it was' })),
      actor: Type.Optional(Actor()),
    },
    { additionalProperties: false },
  ),
});

export const WorkerExpired = defineEvent({
  type: 'WorkerExpired',
  area: 'worker',
  description: 'A worker has not reported for longer than the expiration; it is marked expired, not kept as live.',
  ...byName,
  schema: Type.Object(
    {
      name: WorkerName(),
      lastSeen: DateTime({ description: 'Its last report' }),
      expirationMs: DurationMs('The expiration that passed'),
    },
    { additionalProperties: false },
  ),
});

export const WorkerReturned = defineEvent({
  type: 'WorkerReturned',
  area: 'worker',
  description: 'An expired worker reported again.',
  ...byName,
  schema: Type.Object(
    {
      name: WorkerName(),
      lastSeen: DateTime({ description: 'Its last report before the silence' }),
      absentMs: DurationMs('How long it was silent'),
    },
    { additionalProperties: false },
  ),
});

export const WorkerUnreachable = defineEvent({
  type: 'WorkerUnreachable',
  area: 'worker',
  description:
    "The worker's agent reports, but the worker's admin API (VenusWorker JSON-RPC) does not answer it: the agent is alive, the worker is not reachable. Recorded once, when it stops answering.",
  ...byName,
  schema: Type.Object(
    { name: WorkerName(), error: Reason({ description: 'Why the agent could not list the worker (connection refused, timeout, ...)' }) },
    { additionalProperties: false },
  ),
});

export const WorkerReachable = defineEvent({
  type: 'WorkerReachable',
  area: 'worker',
  description: "The worker's admin API answers its agent again after WorkerUnreachable.",
  ...byName,
  schema: Type.Object({ name: WorkerName(), unreachableMs: DurationMs('How long it did not answer, as the registry saw it') }, { additionalProperties: false }),
});

export const WorkerRemoved = defineEvent({
  type: 'WorkerRemoved',
  area: 'worker',
  description: 'A worker was removed from the registry (it registers anew if it reports again).',
  ...byName,
  schema: Type.Object({ name: WorkerName(), actor: Type.Optional(Actor()) }, { additionalProperties: false }),
});

export const WorkerDrainStarted = defineEvent({
  type: 'WorkerDrainStarted',
  area: 'worker',
  description: 'Drain asked: each thread pauses at its next state boundary and takes no new task.',
  ...byName,
  schema: Type.Object({ name: WorkerName(), actor: Type.Optional(Actor()) }, { additionalProperties: false }),
});

export const WorkerDrainFinished = defineEvent({
  type: 'WorkerDrainFinished',
  area: 'worker',
  description: 'Every thread of a draining worker is paused.',
  ...byName,
  schema: Type.Object({ name: WorkerName(), durationMs: DurationMs('From WorkerDrainStarted to all paused') }, { additionalProperties: false }),
});
