// Test stand-in for the bus: a FleetBus on which FleetTransport binds its handlers without NATS.
// It records what is served and consumed, and calls a bound handler as a request would, so a
// wiring test sees the subjects and the path from the bus through Nest to the app's logic.
import type { NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { createSubjects, type EventEnvelope, type KeyRole } from '@fleetvisor/contracts';
import type { CommandBus, CommandRef, EventConsumerFactory, EventConsumerOptions, EventContext, FleetBus, ServeOptions, UntypedCommandHandler } from '../src';
import type { Logger } from '@fleetvisor/platform';

interface Served {
  subject: string;
  ref: CommandRef;
  opts: ServeOptions;
  handler: UntypedCommandHandler;
}

type ConsumerSpec = Omit<EventConsumerOptions, 'nc' | 'subjects' | 'streamName' | 'logger'>;

export class RecordingBus implements FleetBus {
  readonly subjects = createSubjects('fleet');
  readonly served: Served[] = [];
  readonly consumed: ConsumerSpec[] = [];
  readonly nc = { flush: async () => undefined } as unknown as NatsConnection;
  readonly commands: CommandBus;
  readonly consumers: EventConsumerFactory;

  constructor(readonly logger: Logger) {
    const subjects = this.subjects;
    this.commands = {
      serve: (ref: CommandRef, handler: UntypedCommandHandler, opts: ServeOptions = {}) => {
        const subject = opts.scoped
          ? subjects.scopedCommandWildcard(ref.service, ref.verb)
          : opts.instance === undefined
            ? subjects.command(ref.service, ref.verb)
            : subjects.instanceCommand(ref.service, opts.instance, ref.verb);
        this.served.push({ subject, ref, opts, handler });
        return { subject, ready: Promise.resolve(), stop: async () => undefined };
      },
    } as unknown as CommandBus;
    this.consumers = {
      create: (spec: ConsumerSpec) => {
        this.consumed.push(spec);
        return { name: spec.name, start: async () => undefined, stop: async () => undefined };
      },
    } as unknown as EventConsumerFactory;
  }

  /**
   * What the handler served on `subject` (broadcast ones marked) returns for this request. A command
   * with a role arrives as the real bus hands it over once the signature verified: signed by
   * `opts.signer` (default "test-operator" with the command's role) under a new command id.
   */
  async request(subject: string, request: unknown, opts: { broadcast?: boolean; signer?: { name: string; role: KeyRole } } = {}): Promise<unknown> {
    const s = this.served.find((x) => x.subject === subject && (x.opts.broadcast ?? false) === (opts.broadcast ?? false));
    if (!s) throw new Error(`nothing serves ${subject}; served: ${this.served.map((x) => x.subject).join(', ')}`);
    const role = s.ref.role;
    const signed =
      role === undefined
        ? {}
        : { identity: { kid: 'fv1wiringtestkey0000000', name: opts.signer?.name ?? 'test-operator', role: opts.signer?.role ?? role }, commandId: randomUUID(), signedAt: Date.now() };
    return s.handler(request, { subject, service: s.ref.service, verb: s.ref.verb, headers: undefined, logger: this.logger, ...signed });
  }

  /** Hands an event to the consumer named `name`, as a first delivery. */
  async deliver(name: string, event: EventEnvelope): Promise<void> {
    const c = this.consumed.find((x) => x.name === name);
    if (!c) throw new Error(`no consumer ${name}; consumers: ${this.consumed.map((x) => x.name).join(', ')}`);
    const ctx: EventContext = {
      subject: this.subjects.event(event.stream, event.type),
      deliveryCount: 1,
      redelivered: false,
      streamSequence: 1,
      consumer: name,
      headers: undefined,
      logger: this.logger,
      extendAckDeadline: () => undefined,
    };
    await c.handler(event, ctx);
  }
}
