// A worker-agent stand-in for the registry's int tests: it holds threads, serves the agent
// commands (list, pause, resume, drain) on the bus addressed to its name, and sends reports
// (WorkerReportCommand) with its transitions, dropping those the registry accepted, as the real
// agent does. Test-only: the real agent is apps/worker-agent.
import { randomUUID } from 'node:crypto';
import {
  AgentDrain,
  AgentPause,
  AgentResume,
  AgentThreadList,
  WorkerReportCommand,
  type CommandReply,
  type CommandResultOf,
  type ThreadInfo,
  type ThreadTransition,
  type WorkerReport,
} from '@fleetvisor/contracts';
import { CommandFailure, type CommandServer } from '@fleetvisor/messaging';
import type { AgentBus } from './local-bus';

export interface StandInThread {
  index: number;
  plan: string;
  state: string;
  sectorId?: string;
  location?: string;
  paused: boolean;
  lastError?: string;
  stage?: string;
}

export class AgentStandIn {
  readonly threads: StandInThread[];
  bootId = randomUUID();
  private seq = 0;
  private pending: ThreadTransition[] = [];
  private servers: CommandServer[] = [];
  draining = false;
  /** Pause, resume and drain commands carried out this boot (as the real agent counts them: WorkerReport.controls). */
  controls = 0;
  /** Commands the registry sent, in order (verb:index). */
  readonly calls: string[] = [];

  constructor(
    private readonly bus: AgentBus,
    readonly name: string,
    public dest: string,
    threads: number,
    public version = '1.2.0',
  ) {
    this.threads = Array.from({ length: threads }, (_, index) => ({ index, plan: 'sealer' as const, state: 'Empty', location: `/data/${name}/t${index}`, paused: false }));
  }

  async serve(): Promise<void> {
    const opts = { instance: this.name };
    this.servers = [
      this.bus.serve(AgentThreadList, async () => ({ name: this.name, dest: this.dest, version: this.version, threads: this.threadInfos() }), opts),
      this.bus.serve(
        AgentPause,
        async ({ index }) => {
          this.calls.push(`pause:${index}`);
          const t = this.thread(index);
          const changed = !t.paused;
          t.paused = true;
          return { index, changed, bootId: this.bootId, controls: ++this.controls };
        },
        opts,
      ),
      this.bus.serve(
        AgentResume,
        async ({ index, state }) => {
          this.calls.push(`resume:${index}`);
          const t = this.thread(index);
          const changed = t.paused;
          t.paused = false;
          delete t.lastError;
          if (state !== undefined) t.state = state;
          return { index, state: t.state, changed, bootId: this.bootId, controls: ++this.controls };
        },
        opts,
      ),
      this.bus.serve(
        AgentDrain,
        async () => {
          this.calls.push('drain');
          this.draining = true;
          const paused = this.threads.filter((t) => t.paused).length;
          return { threads: this.threads.length, paused, finished: paused === this.threads.length, bootId: this.bootId, controls: ++this.controls };
        },
        opts,
      ),
    ];
    await Promise.all(this.servers.map((s) => s.ready));
  }

  async stopServing(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    this.servers = [];
  }

  private thread(index: number): StandInThread {
    const t = this.threads.find((x) => x.index === index);
    if (!t) throw new CommandFailure('not_found', `worker #${index} not found; indexes 0-${this.threads.length - 1} exist`);
    return t;
  }

  /** Moves a thread to a state, recording the transition like the planner would. */
  move(index: number, next: string, opts: { sectorId?: string | null; failure?: ThreadTransition['failure']; event?: string } = {}): void {
    const t = this.thread(index);
    const prev = t.state;
    t.state = next;
    if (opts.sectorId === null) delete t.sectorId;
    else if (opts.sectorId !== undefined) t.sectorId = opts.sectorId;
    this.pending.push({
      seq: ++this.seq,
      index,
      plan: t.plan,
      prev,
      next,
      ...(t.location ? { location: t.location } : {}),
      ...(t.sectorId ? { sectorId: t.sectorId } : {}),
      ...(opts.event ? { event: opts.event } : {}),
      ...(opts.failure ? { failure: opts.failure } : {}),
      at: new Date().toISOString(),
    });
  }

  /** A permanent error: the thread pauses with last_error "permanent: …". */
  fail(index: number, desc: string): void {
    const t = this.thread(index);
    const lastError = `permanent: ${desc}`;
    this.move(index, t.state, { failure: { level: 'permanent', desc: lastError } });
    t.paused = true;
    t.lastError = lastError;
  }

  /** Drain progress: the next thread not paused pauses at its state boundary. */
  drainStep(): void {
    const t = this.threads.find((x) => !x.paused);
    if (t) t.paused = true;
  }

  threadInfos(): ThreadInfo[] {
    return this.threads.map((t) => ({
      index: t.index,
      ...(t.location ? { location: t.location } : {}),
      ...(t.sectorId ? { sectorId: t.sectorId } : {}),
      plan: t.plan,
      threadState: t.paused ? 'paused' : t.state === 'Empty' ? 'idle' : 'running',
      elapsedMs: 1_000,
      state: t.state,
      ...(t.stage ? { stage: t.stage } : {}),
      ...(t.lastError ? { lastError: t.lastError } : {}),
    }));
  }

  buildReport(): WorkerReport {
    return {
      name: this.name,
      dest: this.dest,
      version: this.version,
      bootId: this.bootId,
      sentAt: new Date().toISOString(),
      threads: this.threadInfos(),
      transitions: [...this.pending],
      controls: this.controls,
    };
  }

  /** Sends a report; drops the transitions the registry accepted. */
  async report(report = this.buildReport()): Promise<CommandReply<CommandResultOf<typeof WorkerReportCommand>>> {
    const reply = await this.bus.request(WorkerReportCommand, report, { timeoutMs: 10_000, scope: report.name });
    if (reply.ok && reply.result) {
      const accepted = reply.result.acceptedSeq;
      this.pending = this.pending.filter((t) => t.seq > accepted);
    }
    return reply;
  }

  /** A new boot: seq numbers start again. */
  reboot(): void {
    this.bootId = randomUUID();
    this.seq = 0;
    this.controls = 0;
    this.pending = [];
  }

  get pendingTransitions(): number {
    return this.pending.length;
  }
}
