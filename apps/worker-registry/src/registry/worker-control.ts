// WorkerControl: pause, resume, drain and remove. Pause, resume and drain go to the worker's agent
// over the bus (AgentPause/AgentResume/AgentDrain, addressed to the worker's name, signed with the
// registry's service key under the operator's command id); what the agent did is recorded with the
// verified signer as actor and the command id as cause. An agent that does not answer changes and
// records nothing.
//
// Replays: the bus refuses a command id this replica has seen. The events a command causes have ids
// derived from its id, so a replay through another replica (or after a restart) finds them in the
// log and is refused before the agent is asked.
import {
  deterministicEventId,
  AgentDrain,
  AgentPause,
  AgentResume,
  CommandErrorCodes,
  isSealingPlan,
  isValidStateForPlan,
  newEventFor,
  ThreadPaused,
  ThreadResumed,
  validStatesForPlan,
  WorkerDrainStarted,
  WorkerRemoved,
  type CommandError,
  type CommandRequestOf,
  type CommandResultOf,
  type EventMetadata,
  type WorkerDrain,
  type WorkerPause,
  type WorkerRemove,
  type WorkerResume,
} from '@fleetvisor/contracts';
import { CommandFailure, type CommandBus } from '@fleetvisor/messaging';
import { drainFinishedEvent } from '../domain/report-decision';
import { cloneAggregate, evolveWorker } from '../domain/worker-state';
import type { LiveWorkers } from './live-workers';
import { threadOf } from './thread-lookup';
import { decided, type WorkerRecorder } from './worker-recorder';

/** The agents of the workers, on the bus (CommandBus). */
export type AgentCommands = Pick<CommandBus, 'request'>;

/** Who asked, verified by the bus (the signed command's identity and id). */
export interface CommandOrigin {
  actor: string;
  commandId: string;
  /** When the command was signed (ms): the time part of the ids of the events it causes. */
  signedAt: number;
}

/** The log, asked whether a command already caused its first event. */
export interface CausedEvents {
  hasEvent(eventId: string): Promise<boolean>;
}

export interface WorkerControlOptions {
  /** Host of this process, recorded in event metadata. */
  host: string;
  /** How long a proxied command waits for the worker's agent. */
  agentTimeoutMs: number;
  clock?: () => number;
}

/** The id of the n-th event a command causes. */
export function commandEventId(origin: CommandOrigin, n: number): string {
  return deterministicEventId(origin.signedAt, `cmd:${origin.commandId}:${n}`);
}

export class WorkerControl {
  private readonly now: () => number;

  constructor(
    private readonly live: LiveWorkers,
    private readonly recorder: WorkerRecorder,
    private readonly agents: AgentCommands,
    private readonly caused: CausedEvents,
    private readonly opts: WorkerControlOptions,
  ) {
    this.now = opts.clock ?? Date.now;
  }

  pause(req: CommandRequestOf<typeof WorkerPause>, by: CommandOrigin): Promise<CommandResultOf<typeof WorkerPause>> {
    const [name] = this.live.resolve(req.worker);
    return this.live.queue.run(name, async () => {
      const [, w] = this.live.resolve(name);
      threadOf(name, w.agg, req.index);
      await this.refuseReplay(by);
      const reply = await this.agents.request(AgentPause, { index: req.index }, this.toAgent(name, by));
      if (!reply.ok) throw this.agentFailure(name, 'pause', reply.error);
      this.noteApplied(name, reply.result);
      const changed = reply.result?.changed ?? false;
      const actor = by.actor;
      await this.recorder.record(
        name,
        (agg) => {
          const t = agg?.threads.get(req.index);
          if (!t || t.paused) return [];
          return decided(agg, [this.caused_(newEventFor(ThreadPaused, { worker: name, index: req.index, reason: 'manual', actor }, this.meta(by)), by, 0)]);
        },
        this.now(),
      );
      return { worker: name, index: req.index, changed };
    });
  }

  resume(req: CommandRequestOf<typeof WorkerResume>, by: CommandOrigin): Promise<CommandResultOf<typeof WorkerResume>> {
    const [name] = this.live.resolve(req.worker);
    return this.live.queue.run(name, async () => {
      const [, w] = this.live.resolve(name);
      const t = threadOf(name, w.agg, req.index);
      // Checked here, before the agent is asked: damocles resumed to any state unchecked.
      if (req.state !== undefined && !isSealingPlan(t.plan)) {
        throw new CommandFailure(
          CommandErrorCodes.invalidRequest,
          `cannot resume thread #${req.index} of ${name} in state "${req.state}": the states of plan ${t.plan} are not known to Fleetvisor, so the state cannot be checked; resume it without a state, or with the worker's own tools`,
        );
      }
      if (req.state !== undefined && !isValidStateForPlan(t.plan, req.state)) {
        throw new CommandFailure(
          CommandErrorCodes.invalidRequest,
          `state "${req.state}" is not a state of plan ${t.plan} (thread #${req.index} of ${name}); valid states: ${validStatesForPlan(t.plan).join(', ')}`,
        );
      }
      await this.refuseReplay(by);
      const reply = await this.agents.request(AgentResume, { index: req.index, ...(req.state !== undefined ? { state: req.state } : {}) }, this.toAgent(name, by));
      if (!reply.ok) throw this.agentFailure(name, 'resume', reply.error);
      this.noteApplied(name, reply.result);
      const result = reply.result!;
      const actor = by.actor;
      await this.recorder.record(
        name,
        (agg) => {
          const now = agg?.threads.get(req.index);
          if (!now || !(now.paused || result.changed)) return [];
          return decided(agg, [
            this.caused_(newEventFor(ThreadResumed, { worker: name, index: req.index, ...(req.state !== undefined ? { state: req.state } : {}), actor }, this.meta(by)), by, 0),
          ]);
        },
        this.now(),
      );
      return { worker: name, index: req.index, state: result.state, changed: result.changed };
    });
  }

  drain(req: CommandRequestOf<typeof WorkerDrain>, by: CommandOrigin): Promise<CommandResultOf<typeof WorkerDrain>> {
    const [name] = this.live.resolve(req.worker);
    return this.live.queue.run(name, async () => {
      this.live.resolve(name);
      await this.refuseReplay(by);
      const reply = await this.agents.request(AgentDrain, {}, this.toAgent(name, by));
      if (!reply.ok) throw this.agentFailure(name, 'drain', reply.error);
      this.noteApplied(name, reply.result);
      const progress = reply.result!;
      const actor = by.actor;
      await this.recorder.record(
        name,
        (agg) => {
          // Asked again after the drain finished, with no thread resumed since: nothing new happened.
          if (!agg || agg.worker.draining || agg.worker.drained) return [];
          const started = this.caused_(newEventFor(WorkerDrainStarted, { name, actor }, this.meta(by)), by, 0);
          const state = evolveWorker(cloneAggregate(agg), started)!;
          const finished = drainFinishedEvent(state, this.now(), { host: this.opts.host, causationId: by.commandId }, commandEventId(by, 1));
          return finished ? { events: [started, finished], state: evolveWorker(state, finished) } : { events: [started], state };
        },
        this.now(),
      );
      const after = this.live.get(name);
      // Finished once the agent says so and the registry has recorded every thread paused.
      const finished = progress.finished && after !== undefined && !after.agg.worker.draining;
      return { worker: name, threads: progress.threads, paused: progress.paused, finished };
    });
  }

  remove(req: CommandRequestOf<typeof WorkerRemove>, by: CommandOrigin): Promise<CommandResultOf<typeof WorkerRemove>> {
    const [name] = this.live.resolve(req.worker);
    return this.live.queue.run(name, async () => {
      await this.refuseReplay(by);
      const actor = by.actor;
      const result = await this.recorder.record(
        name,
        (agg) => (agg ? { events: [this.caused_(newEventFor(WorkerRemoved, { name, actor }, this.meta(by)), by, 0)], state: undefined } : []),
        this.now(),
      );
      return { worker: name, removed: result.events.length > 0 };
    });
  }

  /** Remembers which of its agent's commands this was, so a report listed before it does not undo it. */
  private noteApplied(name: string, applied: { bootId?: string; controls?: number } | undefined): void {
    const live = this.live.get(name);
    if (live && applied?.bootId !== undefined && applied.controls !== undefined) live.commanded = { bootId: applied.bootId, controls: applied.controls };
  }

  private meta(by: CommandOrigin): EventMetadata {
    return { host: this.opts.host, actor: by.actor, causationId: by.commandId };
  }

  /** The n-th event of a command gets the id derived from the command (see commandEventId). */
  private caused_<E extends { id: string }>(event: E, by: CommandOrigin, n: number): E {
    return { ...event, id: commandEventId(by, n) };
  }

  private async refuseReplay(by: CommandOrigin): Promise<void> {
    if (await this.caused.hasEvent(commandEventId(by, 0))) {
      throw new CommandFailure(CommandErrorCodes.unauthorized, `command ${by.commandId} was already carried out (replay); nothing was changed`);
    }
  }

  /** What the agent is sent: signed by the registry's key, under the operator's command id. */
  private toAgent(name: string, by: CommandOrigin): { instance: string; timeoutMs: number; commandId: string } {
    return { instance: name, timeoutMs: this.opts.agentTimeoutMs, commandId: by.commandId };
  }

  private agentFailure(name: string, verb: string, error: CommandError): CommandFailure {
    if (error.code === CommandErrorCodes.unavailable || error.code === CommandErrorCodes.timeout) {
      return new CommandFailure(CommandErrorCodes.unavailable, `worker ${name} is unreachable: its agent did not answer ${verb} (${error.message}); nothing was changed or recorded`);
    }
    return new CommandFailure(error.code, `worker ${name}: ${error.message}`);
  }
}
