// An in-process command bus for the registry's unit tests: `serve` and `request` as CommandBus
// has them (instance addressing, CommandFailure codes in the reply), with no NATS. An instance in
// `unreachable` answers nothing: its requests come back `unavailable`, as a timed-out request does.
import type { CommandReply } from '@fleetvisor/contracts';
import { CommandFailure, type CommandBus, type CommandContext, type CommandRef, type CommandServer, type RequestOptions, type ServeOptions, type UntypedCommandHandler } from '@fleetvisor/messaging';
import { createLogger } from '@fleetvisor/platform';

/** The part of CommandBus the agent stand-in and the registry's control use. */
export type AgentBus = Pick<CommandBus, 'serve' | 'request'>;

const logger = createLogger({ name: 'local-bus', level: 'silent', format: 'json' });

export class LocalBus {
  private readonly handlers = new Map<string, UntypedCommandHandler>();
  readonly unreachable = new Set<string>();

  private key(ref: CommandRef, instance: string | undefined, scoped = false): string {
    return scoped ? `${ref.service}.${ref.verb}.*` : `${ref.service}.${instance ?? '*'}.${ref.verb}`;
  }

  serve(ref: CommandRef, handler: UntypedCommandHandler, opts: ServeOptions = {}): CommandServer {
    const key = this.key(ref, opts.instance, opts.scoped === true);
    this.handlers.set(key, handler);
    return { subject: key, ready: Promise.resolve(), stop: async () => void this.handlers.delete(key) };
  }

  async request(ref: CommandRef, payload: unknown, opts: RequestOptions = {}): Promise<CommandReply> {
    const key = this.key(ref, opts.instance, opts.scope !== undefined);
    const handler = this.handlers.get(key);
    if (!handler || (opts.instance !== undefined && this.unreachable.has(opts.instance))) {
      return { ok: false, error: { code: 'unavailable', message: `no responders for ${key}` } };
    }
    const ctx: CommandContext = { subject: key, service: ref.service, verb: ref.verb, headers: undefined, logger, ...(opts.scope === undefined ? {} : { scope: opts.scope }) };
    try {
      const result = await handler(payload, ctx);
      return result === undefined ? { ok: true } : { ok: true, result };
    } catch (e) {
      if (e instanceof CommandFailure) return { ok: false, error: { code: e.code, message: e.message } };
      return { ok: false, error: { code: 'internal', message: e instanceof Error ? e.message : String(e) } };
    }
  }

  /** As the CommandBus type (its overloads are the typed face of these two methods). */
  asBus(): AgentBus {
    return this as unknown as AgentBus;
  }
}
