// The worker-agent: a thread source, a transition outbox, a reporter, and the agent commands
// served over NATS for this worker's name. It never exits because NATS is down: at start-up it
// keeps trying to connect (the source runs meanwhile and transitions are kept), and once
// connected nats.js reconnects forever; reports that fail keep their transitions for the next.
import type { NatsConnection } from 'nats';
import { AgentDrain, AgentPause, AgentResume, AgentThreadList, createSubjects, WorkerReportCommand } from '@fleetvisor/contracts';
import { CommandBus, connectNats, type CommandServer } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import { AgentCommands } from './agent-commands';
import { TransitionOutbox } from './report/transition-outbox';
import { WorkerReporter, type ReportOutcome, type WorkerIdentity } from './report/worker-reporter';
import type { ThreadSource } from './sources/thread-source';

export interface WorkerAgentOptions {
  name: string;
  dest: string;
  natsUrl: string;
  subjectRoot: string;
  source: ThreadSource;
  logger: Logger;
  reportIntervalMs: number;
  reportTimeoutMs?: number;
  maxPendingTransitions?: number;
  /** Wait between connection attempts while NATS cannot be reached at start-up (default 1 s, doubling to 10 s). */
  connectRetryMs?: number;
}

export class WorkerAgent {
  readonly outbox: TransitionOutbox;
  readonly reporter: WorkerReporter;
  readonly commands: AgentCommands;
  private readonly log: Logger;
  private nc: NatsConnection | undefined;
  private bus: CommandBus | undefined;
  private servers: CommandServer[] = [];
  private stopped = false;
  private connecting: Promise<void> | undefined;
  private readonly connectedP: Promise<void>;
  private markConnected!: () => void;

  constructor(private readonly opts: WorkerAgentOptions) {
    this.log = opts.logger.child({ component: 'worker-agent', worker: opts.name });
    this.outbox = new TransitionOutbox({ maxPending: opts.maxPendingTransitions ?? 50_000 });
    const identity = (): WorkerIdentity => ({ name: opts.name, dest: opts.dest, version: opts.source.version() });
    this.reporter = new WorkerReporter({
      identity,
      threads: () => opts.source.threads(),
      outbox: this.outbox,
      logger: this.log,
      send: async (report) => {
        if (!this.bus) return { ok: false, error: { code: 'unavailable', message: 'not connected to NATS yet' } };
        return this.bus.request(WorkerReportCommand, report, { timeoutMs: opts.reportTimeoutMs ?? 5_000 });
      },
    });
    this.commands = new AgentCommands(opts.source, identity, () => void this.reporter.reportNow());
    this.connectedP = new Promise((resolve) => (this.markConnected = resolve));
  }

  get bootId(): string {
    return this.outbox.bootId;
  }

  /** Resolves once the agent serves its commands on NATS. */
  get connected(): Promise<void> {
    return this.connectedP;
  }

  /** Starts the source and the reporter; connects to NATS in the background until it succeeds. */
  async start(): Promise<void> {
    await this.opts.source.start((t) => this.outbox.add(t));
    // The first report goes out as soon as NATS is connected (serve()), not before.
    this.reporter.start(this.opts.reportIntervalMs, { immediate: false });
    this.connecting = this.connectLoop();
    this.log.info({ source: this.opts.source.kind, dest: this.opts.dest, bootId: this.bootId, reportIntervalMs: this.opts.reportIntervalMs }, 'worker-agent started');
  }

  reportNow(): Promise<ReportOutcome> {
    return this.reporter.reportNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.reporter.stop();
    await Promise.allSettled(this.servers.map((s) => s.stop()));
    await this.connecting?.catch(() => undefined);
    await this.opts.source.stop();
    if (this.nc && !this.nc.isClosed()) await this.nc.close().catch(() => undefined);
    this.log.info('worker-agent stopped');
  }

  private async connectLoop(): Promise<void> {
    let wait = this.opts.connectRetryMs ?? 1_000;
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const nc = await connectNats(this.opts.natsUrl, this.opts.logger, { name: `worker-agent ${this.opts.name}`, connectTimeoutMs: 3_000 });
        if (this.stopped) {
          await nc.close();
          return;
        }
        this.nc = nc;
        await this.serve(nc);
        return;
      } catch (e) {
        if (attempt === 1) this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'NATS unreachable; the worker keeps running and reports once it connects');
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 10_000);
      }
    }
  }

  private async serve(nc: NatsConnection): Promise<void> {
    const bus = new CommandBus({ nc, subjects: createSubjects(this.opts.subjectRoot), logger: this.opts.logger });
    const instance = { instance: this.opts.name };
    const c = this.commands;
    this.servers = [
      bus.serve(AgentThreadList, (req) => c.list(req), instance),
      bus.serve(AgentPause, (req) => c.pause(req), instance),
      bus.serve(AgentResume, (req) => c.resume(req), instance),
      bus.serve(AgentDrain, (req) => c.drain(req), instance),
    ];
    await Promise.all(this.servers.map((s) => s.ready));
    this.bus = bus;
    this.log.info({ subject: this.servers[0]!.subject.replace(/\.list$/, '.*') }, 'serving agent commands');
    this.markConnected();
    void this.reporter.reportNow();
  }
}
