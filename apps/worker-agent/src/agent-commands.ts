// What the agent answers on fleet.cmd.worker-agent.<name>.<verb>: list, pause, resume, drain
// (damocles' VenusWorker.WorkerList / WorkerPause / WorkerResume, plus drain). Plain logic over a
// ThreadSource: checks the index and the resume state first (errors name what exists), then asks
// the source, then asks for a report at once so the registry sees the change promptly.
import { isSealingPlan, validStatesForPlan, type AgentDrain, type AgentPause, type AgentResume, type AgentThreadList, type CommandRequestOf, type CommandResultOf } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging/core';
import type { WorkerIdentity } from './report/worker-reporter';
import { ThreadSourceError, type ThreadSource } from './sources/thread-source';

function indexRange(indexes: number[]): string {
  if (indexes.length === 0) return 'none';
  const sorted = [...indexes].sort((a, b) => a - b);
  const contiguous = sorted.every((v, i) => v === sorted[0]! + i);
  return contiguous ? `${sorted[0]}..${sorted.at(-1)}` : sorted.join(', ');
}

export class AgentCommands {
  /**
   * Pause, resume and drain commands carried out this boot. A report lists the threads after reading
   * it, and a command answers with it: the registry can tell a report listed before a command it
   * recorded (the report was already on its way) from one that shows the command's effect.
   */
  private done = 0;

  constructor(
    private readonly source: ThreadSource,
    private readonly identity: () => WorkerIdentity,
    /** Called after a command changed something (the agent sends a report). */
    private readonly changed: () => void,
    private readonly bootId?: string,
  ) {}

  /** Commands carried out so far (see WorkerReport.controls). */
  get controls(): number {
    return this.done;
  }

  /** Counts a command whose effect is in place; what its answer carries. */
  private applied(): { bootId?: string; controls: number } {
    this.done++;
    return { ...(this.bootId !== undefined ? { bootId: this.bootId } : {}), controls: this.done };
  }

  async list(_req: CommandRequestOf<typeof AgentThreadList>): Promise<CommandResultOf<typeof AgentThreadList>> {
    const threads = await this.guard(() => this.source.threads());
    return { ...this.identity(), threads };
  }

  async pause(req: CommandRequestOf<typeof AgentPause>): Promise<CommandResultOf<typeof AgentPause>> {
    await this.existing(req.index);
    const changed = await this.guard(() => this.source.pause(req.index));
    const applied = this.applied();
    if (changed) this.changed();
    return { index: req.index, changed, ...applied };
  }

  async resume(req: CommandRequestOf<typeof AgentResume>): Promise<CommandResultOf<typeof AgentResume>> {
    const t = await this.existing(req.index);
    if (req.state !== undefined) {
      if (!isSealingPlan(t.plan)) {
        throw new CommandFailure(
          'invalid_request',
          `cannot resume thread #${req.index} in state "${req.state}": the states of plan ${t.plan} are not known to Fleetvisor, so the state cannot be checked; resume it without a state`,
        );
      }
      const valid = validStatesForPlan(t.plan);
      if (!valid.includes(req.state)) {
        throw new CommandFailure('invalid_request', `state "${req.state}" is not a state of plan ${t.plan} (thread #${req.index}); valid: ${valid.join(', ')}`);
      }
    }
    const changed = await this.guard(() => this.source.resume(req.index, req.state));
    const applied = this.applied();
    if (changed) this.changed();
    return { index: req.index, state: changed ? (req.state ?? t.state) : t.state, changed, ...applied };
  }

  async drain(_req: CommandRequestOf<typeof AgentDrain>): Promise<CommandResultOf<typeof AgentDrain>> {
    const progress = await this.guard(() => this.source.drain());
    const applied = this.applied();
    this.changed();
    return { ...progress, ...applied };
  }

  private async existing(index: number) {
    const threads = await this.guard(() => this.source.threads());
    const t = threads.find((x) => x.index === index);
    if (!t) throw new CommandFailure('not_found', `worker #${index} not found on ${this.identity().name} (threads: ${indexRange(threads.map((x) => x.index))})`);
    return t;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ThreadSourceError) throw new CommandFailure(e.code, e.message);
      throw e;
    }
  }
}
