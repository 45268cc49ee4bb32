// ServicesList / ServicesStatus over the bus, answered by every runner for its own host:
//   - addressed: <root>.cmd.service-runner.<host>.<verb> (CommandBus, instance = host id)
//   - fleet-wide: <root>.cmd.service-runner.<verb>, plain subscription with no queue group, so
//     every runner hears it and answers when `host` is absent or is its own; a caller gathers
//     the replies until its timeout (requestMany). A runner that lacks the asked service stays silent.
import type { Msg, NatsConnection, Subscription } from 'nats';
import { CommandErrorCodes, ServicesList, ServicesStatus, type CommandReply, type ServiceStatus, type ServiceSummary } from '@fleetvisor/contracts';
import { CommandBus, CommandFailure, validationError, type CommandServer } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { RunnerLinks } from './runner-links';

export interface ServicesView {
  host: string;
  list(chainId?: string): ServiceSummary[];
  status(service: string): ServiceStatus | undefined;
}

export class ServicesCommands {
  private servers: CommandServer[] = [];
  private subs: Subscription[] = [];

  constructor(
    private readonly links: RunnerLinks,
    private readonly view: ServicesView,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.links.onNats(async (nc) => {
      const bus = new CommandBus({ nc, subjects: this.links.subjects, logger: this.logger });
      const host = this.view.host;
      this.servers.push(
        bus.serve(ServicesList, async (req) => ({ host, services: this.view.list(req.chainId) }), { instance: host }),
        bus.serve(
          ServicesStatus,
          async (req) => {
            const status = this.view.status(req.service);
            if (!status) throw new CommandFailure(CommandErrorCodes.notFound, `no service ${req.service} on ${host}; it has: ${this.view.list().map((s) => s.service).join(', ') || '(none)'}`);
            return { host, status };
          },
          { instance: host },
        ),
      );
      this.subs.push(this.broadcast(nc, ServicesList.verb, (req) => {
        const r = req as { host?: string; chainId?: string };
        if (validationError(ServicesList.request, req, 'request') || (r.host && r.host !== host)) return undefined;
        return { host, services: this.view.list(r.chainId) };
      }));
      this.subs.push(this.broadcast(nc, ServicesStatus.verb, (req) => {
        const r = req as { host?: string; service: string };
        if (validationError(ServicesStatus.request, req, 'request') || (r.host && r.host !== host)) return undefined;
        const status = this.view.status(r.service);
        return status ? { host, status } : undefined;
      }));
      await Promise.all(this.servers.map((s) => s.ready));
      await nc.flush();
    });
  }

  private broadcast(nc: NatsConnection, verb: string, answer: (req: unknown) => unknown): Subscription {
    return nc.subscribe(this.links.subjects.command('service-runner', verb), {
      callback: (err, msg: Msg) => {
        if (err || !msg.reply) return;
        let req: unknown;
        try {
          req = msg.data.length ? JSON.parse(Buffer.from(msg.data).toString('utf8')) : {};
        } catch {
          return;
        }
        const result = answer(req);
        if (result === undefined) return;
        const reply: CommandReply = { ok: true, result };
        msg.respond(Buffer.from(JSON.stringify(reply)));
      },
    });
  }

  async stop(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await Promise.allSettled(this.servers.map((s) => s.stop()));
  }
}
