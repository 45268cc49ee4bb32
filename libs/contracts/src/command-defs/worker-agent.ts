// What a worker-agent (beside one sealing worker) and the worker-registry say to each other.
//
// - report (agent -> registry, fleet.cmd.worker-registry.report.<name>, scoped: the worker's name
//   is the last token, so a NATS permission lets an agent report only for its own worker; the
//   registry refuses `forbidden` a body naming another worker): every interval, the worker's
//   identity, every thread, and the transitions seen since the last acknowledged report. A report
//   is a heartbeat, not an event: the registry appends events only for what changed.
//   Transitions carry (bootId, seq) so a report re-sent after a lost reply is not recorded twice.
// - agent commands (registry or the local CLI -> one agent, addressed by instance = worker name:
//   fleet.cmd.worker-agent.<name>.<verb>): list, pause, resume, drain, like damocles' admin
//   JSON-RPC (VenusWorker.WorkerList / WorkerPause / WorkerResume) plus drain.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { BinaryVersion, DateTime, Reason, StateName, ThreadIndex, WorkerName } from '../fields';
import { FailureSchema, SealingPlanField, SectorId, WorkerDest } from '../events/worker';
import { ThreadInfoSchema } from './worker-registry';

export const WORKER_AGENT_SERVICE = 'worker-agent';

export const ThreadTransitionSchema = Type.Object(
  {
    seq: Type.Integer({ minimum: 1, description: 'Per agent boot, strictly increasing across all threads' }),
    index: ThreadIndex(),
    plan: SealingPlanField(),
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Local store location of the thread' })),
    sectorId: Type.Optional(SectorId()),
    prev: StateName({ description: 'State before' }),
    next: StateName({ description: 'State after' }),
    event: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Planner event that caused the transition' })),
    failure: Type.Optional(FailureSchema),
    at: DateTime({ description: 'When the worker saw it' }),
  },
  { additionalProperties: false, description: "One state change of one thread (damocles' StateChange + Failure)" },
);
export type ThreadTransition = Static<typeof ThreadTransitionSchema>;

export const WorkerReportSchema = Type.Object(
  {
    name: WorkerName({ description: 'Worker instance name (default: the host name)' }),
    dest: WorkerDest(),
    version: BinaryVersion({ description: 'Worker software version' }),
    bootId: Type.String({ format: 'uuid', description: 'Changes each time the agent starts; scopes transition seq numbers' }),
    sentAt: DateTime(),
    threads: Type.Array(ThreadInfoSchema, { maxItems: 65_536, description: 'Every thread, as `worker info` shows it (none when unreachable)' }),
    unreachable: Type.Optional(
      Reason({
        description:
          "The agent could not list the worker (its admin API did not answer): the error. The report then says nothing about the worker's threads, version or thread count.",
      }),
    ),
    transitions: Type.Array(ThreadTransitionSchema, {
      maxItems: 100_000,
      description: 'Transitions since the last acknowledged report, in seq order',
    }),
    controls: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "Pause, resume and drain commands this agent had carried out (this boot) before it listed the threads of this report. A report listed before a command the registry recorded (a smaller number than that command's answer) may show the threads as they were before it, so its paused or running threads do not undo the command.",
      }),
    ),
  },
  { additionalProperties: false, description: 'What a worker-agent sends every interval' },
);
export type WorkerReport = Static<typeof WorkerReportSchema>;

export const WorkerReportCommand = defineCommand({
  service: 'worker-registry',
  verb: 'report',
  description:
    'A worker-agent reports its worker and threads (heartbeat), scoped on <root>.cmd.worker-registry.report.<name>: a body naming another worker is refused `forbidden`, and the old unscoped subject answers `upgrade_required`. Only changes become events; `acceptedSeq` is the highest transition seq recorded, so the agent drops those.',
  request: WorkerReportSchema,
  result: Type.Object(
    {
      appended: Type.Integer({ minimum: 0, description: 'Events appended for this report (0 = nothing changed)' }),
      acceptedSeq: Type.Integer({ minimum: 0, description: 'Highest transition seq of this boot now recorded' }),
    },
    { additionalProperties: false },
  ),
});

// ---- commands served by one agent (instance = worker name) ----

/** In an agent's answer to pause, resume or drain: which of its commands this was (see WorkerReport.controls). */
const Applied = {
  bootId: Type.Optional(Type.String({ format: 'uuid', description: "The agent's boot id" })),
  controls: Type.Optional(Type.Integer({ minimum: 0, description: 'Commands this agent has carried out this boot, this one included; a report listed before it carries a smaller number' })),
};

export const AgentThreadList = defineCommand({
  service: WORKER_AGENT_SERVICE,
  verb: 'list',
  instance: 'name',
  description: "The worker and every thread, from the agent's own source (VenusWorker.WorkerList).",
  request: Type.Object({}, { additionalProperties: false }),
  result: Type.Object(
    { name: WorkerName(), dest: WorkerDest(), version: BinaryVersion(), threads: Type.Array(ThreadInfoSchema, { maxItems: 65_536 }) },
    { additionalProperties: false },
  ),
});

export const AgentPause = defineCommand({
  service: WORKER_AGENT_SERVICE,
  verb: 'pause',
  role: 'operate',
  instance: 'name',
  description: 'Pause one thread (VenusWorker.WorkerPause). not_found names the valid indexes; changed=false when already paused.',
  request: Type.Object({ index: ThreadIndex() }, { additionalProperties: false }),
  result: Type.Object({ index: ThreadIndex(), changed: Type.Boolean(), ...Applied }, { additionalProperties: false }),
});

export const AgentResume = defineCommand({
  service: WORKER_AGENT_SERVICE,
  verb: 'resume',
  role: 'operate',
  instance: 'name',
  description: 'Resume one paused thread, optionally in another state of its plan (VenusWorker.WorkerResume(index, set_to)).',
  request: Type.Object({ index: ThreadIndex(), state: Type.Optional(StateName()) }, { additionalProperties: false }),
  result: Type.Object(
    { index: ThreadIndex(), state: StateName({ description: 'State it resumed in' }), changed: Type.Boolean(), ...Applied },
    { additionalProperties: false },
  ),
});

export const AgentDrain = defineCommand({
  service: WORKER_AGENT_SERVICE,
  verb: 'drain',
  role: 'operate',
  instance: 'name',
  description: 'Each thread pauses at its next state boundary and takes no new task; asking again reports progress.',
  request: Type.Object({}, { additionalProperties: false }),
  result: Type.Object(
    {
      threads: Type.Integer({ minimum: 0, description: 'Threads' }),
      paused: Type.Integer({ minimum: 0, description: 'Threads paused so far' }),
      finished: Type.Boolean(),
      ...Applied,
    },
    { additionalProperties: false },
  ),
});
