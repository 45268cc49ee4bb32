// The worker-agent: a thread source, a transition outbox, a reporter, and the agent commands for
// this worker's name. Plain class: the Nest shell (worker-agent.module.ts) serves the commands and
// hands it the bus. It never depends on NATS being up: the source runs and transitions are kept
// while it is away, and reports that fail keep their transitions for the next.
import { WorkerReportCommand, type CommandReply } from '@fleetvisor/contracts';
import type { CommandBus } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import { AgentCommands } from './agent-commands';
import { TransitionOutbox } from './report/transition-outbox';
import { WorkerReporter, type ReportOutcome, type ReportResult, type WorkerIdentity } from './report/worker-reporter';
import type { ThreadSource } from './sources/thread-source';

export interface WorkerAgentOptions {
  name: string;
  dest: string;
  source: ThreadSource;
  logger: Logger;
  reportIntervalMs: number;
  reportTimeoutMs?: number;
  maxPendingTransitions?: number;
  /** The command bus once NATS is connected; undefined before. */
  bus: () => CommandBus | undefined;
}

const NOT_CONNECTED: CommandReply<ReportResult> = { ok: false, error: { code: 'unavailable', message: 'not connected to NATS yet' } };

export class WorkerAgent {
  readonly outbox: TransitionOutbox;
  readonly reporter: WorkerReporter;
  readonly commands: AgentCommands;
  private readonly log: Logger;

  constructor(private readonly opts: WorkerAgentOptions) {
    this.log = opts.logger.child({ component: 'worker-agent', worker: opts.name });
    this.outbox = new TransitionOutbox({ maxPending: opts.maxPendingTransitions ?? 50_000 });
    const identity = (): WorkerIdentity => ({ name: opts.name, dest: opts.dest, version: opts.source.version() });
    this.reporter = new WorkerReporter({
      identity,
      threads: () => opts.source.threads(),
      controls: () => this.commands.controls,
      outbox: this.outbox,
      logger: this.log,
      // Scoped by the worker's name (<root>.cmd.worker-registry.report.<name>): the agent's NATS
      // credential may publish only that subject, so it can report for no other worker.
      send: async (report) => {
        const bus = opts.bus();
        return bus ? bus.request(WorkerReportCommand, report, { timeoutMs: opts.reportTimeoutMs ?? 5_000, scope: opts.name }) : NOT_CONNECTED;
      },
    });
    this.commands = new AgentCommands(opts.source, identity, () => void this.reporter.reportNow(), this.outbox.bootId);
  }

  get bootId(): string {
    return this.outbox.bootId;
  }

  /** Starts the source and the reporter; the first report goes out once the commands are served (serving()). */
  async start(): Promise<void> {
    await this.opts.source.start(
      (t) => this.outbox.add(t),
      () => void this.reporter.reportNow(),
    );
    this.reporter.start(this.opts.reportIntervalMs, { immediate: false });
    this.log.info({ source: this.opts.source.kind, dest: this.opts.dest, bootId: this.bootId, reportIntervalMs: this.opts.reportIntervalMs }, 'worker-agent started');
  }

  /** The agent's commands are served on the bus: report at once, so the registry knows the worker. */
  serving(subject: string): void {
    this.log.info({ subject }, 'serving agent commands');
    void this.reporter.reportNow();
  }

  reportNow(): Promise<ReportOutcome> {
    return this.reporter.reportNow();
  }

  async stop(): Promise<void> {
    await this.reporter.stop();
    await this.opts.source.stop();
    this.log.info('worker-agent stopped');
  }
}
