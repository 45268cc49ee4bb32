// FleetTransport: the @nestjs/microservices transport of Fleetvisor services. It does no messaging
// of its own. On listen it binds every @MessagePattern handler to CommandBus.serve and every
// @EventPattern handler to a durable EventConsumer of the app's FleetCore. Requests are validated,
// replies have the CommandReply shape, and failing events are nak'd with backoff and dead-lettered,
// all by the plain classes, exactly as for code that uses them directly.
// An edge process (service-runner, worker-agent) gives it an EdgeBus instead: listen() then
// checks the patterns and returns, and the handlers are bound once NATS answers, so the process
// starts while NATS is down. Commands may be addressed to this instance (a host, a worker) or
// broadcast to all instances; durable names and stream ids may hold `{placeholders}` filled from
// the options, for what is known only at run time (the host, the chain).
import { BaseRpcContext, RpcException, Server, type CustomTransportStrategy, type MessageHandler, type MsPattern } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  COMMAND_NAME_PATTERN,
  CommandErrorCodes,
  STREAM_AREAS,
  fleetEvents,
  isEventDefinition,
  type CommandDefinition,
  type EventCatalog,
  type EventDefinition,
  type StreamArea,
  type Subjects,
} from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { backoffDelay } from '../backoff';
import { CommandFailure, type CommandContext, type CommandRef, type CommandServer, type ServeOptions, type UntypedCommandHandler } from '../command-bus';
import { EdgeBus, EdgeBusClosedError, type FleetBus } from '../edge-bus';
import type { EventConsumer, EventConsumerOptions, EventContext, EventHandler } from '../event-consumer';
import type { FleetCore } from '../fleet-core';
import type { IdempotencyGuard } from '../idempotency';

/** Transport id: `@MessagePattern(def, FLEET_TRANSPORT)` binds a handler to this transport only (hybrid apps). */
export const FLEET_TRANSPORT: unique symbol = Symbol.for('fleetvisor.transport');

/** Consumer settings a pattern or the transport may set (see EventConsumerOptions). */
export type FleetConsumerTuning = Partial<Pick<EventConsumerOptions, 'maxDeliver' | 'retryBackoff' | 'batchSize' | 'ackWaitMs' | 'maxAckPending' | 'deliverPolicy'>>;

/**
 * The object form of an @EventPattern: which events, and the durable consumer that receives them.
 * `@EventPattern('HostOnline')` is short for `{ type: 'HostOnline', durable: '<serviceName>-HostOnline' }`.
 */
export interface FleetEventSelector extends FleetConsumerTuning {
  /** Event type(s); none = every type (of the area / stream id). */
  type?: string | readonly string[];
  area?: StreamArea;
  streamId?: string;
  /**
   * Durable consumer name (letters, digits, `_`, `-`). Replicas with the same name share the events.
   * `{name}` is replaced by options.placeholders[name], whose characters a durable name cannot hold become `_`.
   */
  durable: string;
}

/**
 * Where a command is served: 'service' (default) on <root>.cmd.<service>.<verb> in the service's
 * queue group; 'instance' on <root>.cmd.<service>.<instance>.<verb> (options.instance);
 * 'broadcast' on the service-wide subject without a queue group, every instance answering only
 * what it has an answer to (see ServeOptions.broadcast); 'scoped' on <root>.cmd.<service>.<verb>.*
 * in the service's queue group, the sender's identity in the last token (ctx.scope; ServeOptions.scoped).
 */
export type FleetCommandScope = 'service' | 'instance' | 'broadcast' | 'scoped';

export interface FleetCommandSelector {
  command: CommandDefinition | `${string}.${string}`;
  scope: FleetCommandScope;
}

/** What @EventPattern accepts: an event type name, an EventDefinition, or a FleetEventSelector. */
export type FleetEventPattern = string | EventDefinition | FleetEventSelector;
/** What @MessagePattern accepts: a CommandDefinition (validated, typed), `'<service>.<verb>'` (unchecked), or either with a scope. */
export type FleetCommandPattern = CommandDefinition | `${string}.${string}` | FleetCommandSelector;

export interface FleetTransportOptions {
  /** Prefix of default durable consumer names: `<serviceName>-<event type>`. */
  serviceName: string;
  /** Defaults for every consumer (a FleetEventSelector overrides them). */
  consumers?: FleetConsumerTuning & {
    /** Default: an in-memory LRU per consumer (see EventConsumerOptions.idempotency). */
    idempotency?: IdempotencyGuard | false;
  };
  /** Event catalog used to check pattern types and to validate events (default fleetEvents). */
  catalog?: EventCatalog;
  /** This process's instance id (a host, a worker name): where commands of scope 'instance' are served. */
  instance?: string;
  /** Values of the `{name}` placeholders in event selectors' `durable` and `streamId`. */
  placeholders?: Readonly<Record<string, string>>;
}

/** `@Ctx()` of a @MessagePattern handler. */
export class FleetCommandContext extends BaseRpcContext<[CommandContext]> implements CommandContext {
  get subject(): string {
    return this.args[0].subject;
  }
  get service(): string {
    return this.args[0].service;
  }
  get verb(): string {
    return this.args[0].verb;
  }
  get headers(): CommandContext['headers'] {
    return this.args[0].headers;
  }
  get logger(): Logger {
    return this.args[0].logger;
  }
  /** Of a 'scoped' command: the identity its subject names. */
  get scope(): string | undefined {
    return this.args[0].scope;
  }
  /** Of a signed command: the verified signer (record identity.name as the actor). */
  get identity(): CommandContext['identity'] {
    return this.args[0].identity;
  }
  /** Of a signed command: its id, the cause of what it does. */
  get commandId(): string | undefined {
    return this.args[0].commandId;
  }
  /** Of a signed command: when it was signed (ms). */
  get signedAt(): number | undefined {
    return this.args[0].signedAt;
  }
}

/** `@Ctx()` of an @EventPattern handler: delivery count, stream sequence, ack deadline. */
export class FleetEventContext extends BaseRpcContext<[EventContext]> implements EventContext {
  get subject(): string {
    return this.args[0].subject;
  }
  /** 1 on the first delivery. */
  get deliveryCount(): number {
    return this.args[0].deliveryCount;
  }
  get redelivered(): boolean {
    return this.args[0].redelivered;
  }
  get streamSequence(): number {
    return this.args[0].streamSequence;
  }
  get consumer(): string {
    return this.args[0].consumer;
  }
  get headers(): EventContext['headers'] {
    return this.args[0].headers;
  }
  get logger(): Logger {
    return this.args[0].logger;
  }
  /** Resets the ack-wait timer for a long-running handler. */
  extendAckDeadline(): void {
    this.args[0].extendAckDeadline();
  }
}

export interface FleetTransportBindings {
  commands: CommandServer[];
  consumers: EventConsumer[];
}

interface CommandBinding {
  route: string;
  ref: CommandRef;
  serve: ServeOptions;
  handler: MessageHandler;
}

interface BindingPlan {
  commands: CommandBinding[];
  consumers: ConsumerBinding[];
}

interface ConsumerBinding {
  route: string;
  name: string;
  filters: string[];
  tuning: FleetConsumerTuning;
  handler: MessageHandler;
}

const TUNING_KEYS = ['maxDeliver', 'retryBackoff', 'batchSize', 'ackWaitMs', 'maxAckPending', 'deliverPolicy'] as const satisfies readonly (keyof FleetConsumerTuning)[];
const CODE = /^[a-z][a-z0-9_]*$/;
const COMMAND_NAME = new RegExp(COMMAND_NAME_PATTERN);
const DURABLE_NAME = /^[A-Za-z0-9_-]{1,200}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (isRecord(e) && typeof e.message === 'string') return e.message;
  return String(e);
}

/** `{code, message}` with a snake_case code, as a CommandFailure. */
function failureOf(v: unknown): CommandFailure | undefined {
  if (!isRecord(v) || typeof v.code !== 'string' || !CODE.test(v.code)) return undefined;
  return new CommandFailure(v.code, typeof v.message === 'string' ? v.message : v.code);
}

/**
 * What a command handler's failure becomes, for CommandBus: a CommandFailure keeps its code; an
 * RpcException (or the error object Nest's exception filter emits for one) with `{code, message}`
 * gets that code, any other RpcException 'internal'; other errors go on as they are (CommandBus
 * logs them and replies 'internal').
 */
export function toCommandError(e: unknown): Error {
  if (e instanceof CommandFailure) return e;
  if (e instanceof RpcException) return failureOf(e.getError()) ?? new CommandFailure(CommandErrorCodes.internal, e.message || 'internal error');
  if (e instanceof Error) return e;
  // A plain object: what Nest's default RPC exception filter emits ({status, message}, or the
  // error object of an RpcException). The original exception was already logged by Nest.
  return failureOf(e) ?? new CommandFailure(CommandErrorCodes.internal, messageOf(e) || 'internal error');
}

/** Waits for a handler's value: a promise, an Observable (its last value) or a plain value. */
async function settle(value: unknown): Promise<unknown> {
  const v = await value;
  return isObservable(v) ? lastValueFrom(v, { defaultValue: undefined }) : v;
}

function isCommandRef(v: unknown): v is CommandRef {
  return isRecord(v) && typeof v.service === 'string' && typeof v.verb === 'string';
}

const SCOPES: readonly FleetCommandScope[] = ['service', 'instance', 'broadcast', 'scoped'];

function isCommandSelector(v: unknown): v is FleetCommandSelector {
  return isRecord(v) && 'command' in v && 'scope' in v;
}

function commandRefOf(pattern: unknown, route: string): CommandRef {
  let ref: CommandRef | undefined;
  if (typeof pattern === 'string') {
    const [service, verb, ...rest] = pattern.split('.');
    if (service !== undefined && verb !== undefined && rest.length === 0) ref = { service, verb };
  } else if (isCommandRef(pattern)) {
    ref = pattern;
  }
  if (!ref) throw new Error(`@MessagePattern(${route}): expected a CommandDefinition (defineCommand) or '<service>.<verb>'`);
  if (!COMMAND_NAME.test(ref.service) || !COMMAND_NAME.test(ref.verb)) {
    throw new Error(`@MessagePattern(${route}): service and verb must match ${COMMAND_NAME_PATTERN}`);
  }
  return ref;
}

function isSelector(v: unknown): v is FleetEventSelector {
  return isRecord(v) && typeof v.durable === 'string';
}

/** A default durable name from a service name and a type: what a durable name cannot hold becomes `_`. */
export function defaultDurableName(serviceName: string, key: string): string {
  return `${serviceName}-${key}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
}

export class FleetTransport extends Server implements CustomTransportStrategy {
  override transportId = FLEET_TRANSPORT;
  /**
   * Event handler failures are not lost: they reach the EventConsumer (nak, backoff, dead letter),
   * which logs them. Nest therefore does not log them a second time.
   */
  override readonly propagatesEventHandlerErrors = true;

  private readonly options: FleetTransportOptions;
  private readonly catalog: EventCatalog;
  /** The patterns as decorated (Nest keys handlers by a string form that loses the schemas). */
  private readonly patterns = new Map<string, unknown>();
  private core: FleetBus | undefined;
  private log: Logger | undefined;
  private servers: CommandServer[] = [];
  private consumers: EventConsumer[] = [];
  private starting: Promise<void> | undefined;
  /** Binding in the background (EdgeBus): waits for NATS, then binds. */
  private background: Promise<void> | undefined;
  private listening = false;
  private closing = false;
  private markClosed!: () => void;
  private readonly closed = new Promise<void>((resolve) => (this.markClosed = resolve));
  private warnedDefaultFilter = false;
  private markBound!: () => void;
  private readonly boundP = new Promise<void>((resolve) => (this.markBound = resolve));

  /**
   * @param core the app's FleetCore (or another FleetBus), a function resolving it when listen()
   *   is called (the core must be open by then; FleetCoreModule opens it while Nest builds the
   *   module graph), or an EdgeBus, whose connection the handlers wait for.
   */
  constructor(
    private readonly coreSource: FleetBus | EdgeBus | (() => FleetBus | Promise<FleetBus>),
    options: FleetTransportOptions,
  ) {
    super();
    this.options = options;
    this.catalog = options.catalog ?? fleetEvents;
  }

  /** Resolves once every handler is bound: at listen() over a FleetCore, when NATS answers over an EdgeBus. */
  bound(): Promise<void> {
    return this.boundP;
  }

  override addHandler(pattern: unknown, callback: MessageHandler, isEventHandler = false, extras: Record<string, unknown> = {}): void {
    if (this.listening) this.log?.warn({ pattern: this.normalizePattern(pattern as MsPattern) }, 'handler added after listen(); it is not bound');
    this.patterns.set(this.normalizePattern(pattern as MsPattern), pattern);
    super.addHandler(pattern, callback, isEventHandler, extras);
  }

  /** Binds the handlers; on any failure stops what was started and passes the error to Nest. */
  async listen(callback: (err?: unknown, ...optionalParams: unknown[]) => void): Promise<void> {
    if (this.listening || this.starting) {
      callback(new Error('FleetTransport: listen() was already called'));
      return;
    }
    this.starting = this.start();
    try {
      await this.starting;
    } catch (e) {
      await this.stopBindings();
      callback(e);
      return;
    } finally {
      this.starting = undefined;
    }
    this._status$.next('connected');
    callback();
  }

  /** Stops the command servers and consumers this transport started (not the core: the module owns it). */
  async close(): Promise<void> {
    this.closing = true;
    this.markClosed();
    await this.starting?.catch(() => undefined);
    await this.background;
    await this.stopBindings();
    this._status$.next('disconnected');
  }

  /** The FleetCore the handlers are bound to (after listen(); over an EdgeBus, once bound). */
  unwrap<T = FleetCore>(): T {
    if (!this.core) throw new Error('FleetTransport: not bound yet (unwrap() returns the FleetCore once listen() has run)');
    return this.core as unknown as T;
  }

  on(event: unknown): never {
    throw new Error(`FleetTransport: no transport events (asked for ${String(event)}); connection state is FleetCore's`);
  }

  /** What is bound now: one command server per @MessagePattern, one consumer per @EventPattern. */
  bindings(): FleetTransportBindings {
    return { commands: [...this.servers], consumers: [...this.consumers] };
  }

  private async start(): Promise<void> {
    if (this.coreSource instanceof EdgeBus) {
      const edge = this.coreSource;
      const log = edge.logger.child({ component: 'fleet-transport' });
      this.log = log;
      const plan = this.plan(edge.subjects);
      this.listening = true;
      this.background = this.bindWhenConnected(edge, plan).catch((e: unknown) => log.error({ err: e }, 'fleet transport could not bind its handlers'));
      log.info(this.describe(plan), 'fleet transport listening; handlers are bound once NATS answers');
      return;
    }
    const core = typeof this.coreSource === 'function' ? await this.coreSource() : this.coreSource;
    this.core = core;
    const log = core.logger.child({ component: 'fleet-transport' });
    this.log = log;
    const plan = this.plan(core.subjects);
    await this.bind(core, plan, false);
    this.listening = true;
    log.info(this.describe(plan), 'fleet transport listening');
  }

  /** Waits `ms`, or less when the transport closes. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      void this.closed.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Every pattern is checked before anything starts, so a typo fails the start-up as a whole. */
  private plan(subjects: Subjects): BindingPlan {
    const commands: CommandBinding[] = [];
    const consumers: ConsumerBinding[] = [];
    for (const [route, handler] of this.messageHandlers) {
      const pattern = this.patterns.has(route) ? this.patterns.get(route) : route;
      if (handler.isEventHandler) consumers.push(this.consumerBinding(route, pattern, handler, subjects));
      else commands.push(this.commandBinding(route, pattern, handler));
    }
    this.checkUnique(commands, consumers);
    return { commands, consumers };
  }

  private describe(plan: BindingPlan): Record<string, unknown> {
    return {
      commands: plan.commands.map((c) => `${c.ref.service}.${c.serve.instance === undefined ? '' : `${c.serve.instance}.`}${c.ref.verb}${c.serve.broadcast ? ' (broadcast)' : ''}${c.serve.scoped ? '.*' : ''}`),
      consumers: plan.consumers.map((c) => ({ name: c.name, filters: c.filters })),
    };
  }

  private async bindWhenConnected(edge: EdgeBus, plan: BindingPlan): Promise<void> {
    const ready = edge.ready().catch((e: unknown) => {
      if (e instanceof EdgeBusClosedError) return undefined;
      throw e;
    });
    const bus = await Promise.race([ready, this.closed.then(() => undefined)]);
    if (!bus || this.closing) return;
    this.core = bus;
    await this.bind(bus, plan, true);
  }

  /**
   * Starts a consumer per event binding and a command server per command binding. With `retry`
   * (an edge process, whose NATS may go away again at any moment) a consumer that cannot start is
   * tried again with backoff until it starts or the transport closes; otherwise the first failure
   * fails the whole.
   */
  private async bind(core: FleetBus, plan: BindingPlan, retry: boolean): Promise<void> {
    const startConsumer = async (b: ConsumerBinding): Promise<void> => {
      const consumer = core.consumers.create({
        ...(this.options.consumers ?? {}),
        ...b.tuning,
        name: b.name,
        filter: b.filters,
        catalog: this.catalog,
        handler: this.eventHandler(b.handler),
      });
      this.consumers.push(consumer);
      for (let attempt = 1; ; attempt++) {
        try {
          await consumer.start();
          return;
        } catch (e) {
          if (!retry || this.closing) throw e;
          const delay = backoffDelay(attempt, { initialMs: 250, maxMs: 10_000 });
          this.log?.warn({ consumer: b.name, err: e instanceof Error ? e.message : String(e), retryInMs: delay }, 'event consumer could not start yet; retrying');
          await this.pause(delay);
          if (this.closing) return;
        }
      }
    };
    // allSettled: on a failure, every consumer has finished starting before they are all stopped.
    const started = await Promise.allSettled(plan.consumers.map(startConsumer));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (this.closing) return;
    for (const b of plan.commands) this.servers.push(core.commands.serve(b.ref, this.commandHandler(b.handler), b.serve));
    // The server knows the subscriptions before Nest reports the service ready.
    if (retry) await core.nc.flush().catch(() => undefined);
    else await core.nc.flush();
    this.markBound();
  }

  private async stopBindings(): Promise<void> {
    this.listening = false;
    const servers = this.servers;
    const consumers = this.consumers;
    this.servers = [];
    this.consumers = [];
    await Promise.allSettled([...servers.map((s) => s.stop()), ...consumers.map((c) => c.stop())]);
  }

  private commandHandler(handler: MessageHandler): UntypedCommandHandler {
    return async (request, ctx) => {
      try {
        return await settle(handler(request, new FleetCommandContext([ctx])));
      } catch (e) {
        this.checkFilter(e);
        throw toCommandError(e);
      }
    };
  }

  private eventHandler(handler: MessageHandler): EventHandler {
    return async (event, ctx) => {
      try {
        await settle(handler(event, new FleetEventContext([ctx])));
      } catch (e) {
        this.checkFilter(e);
        throw e instanceof Error ? e : new Error(messageOf(e));
      }
    };
  }

  /** Nest's default RPC filter turned the error into `{status:'error', message}`: say once how to keep it. */
  private checkFilter(e: unknown): void {
    if (this.warnedDefaultFilter || e instanceof Error || !isRecord(e) || e.status !== 'error') return;
    this.warnedDefaultFilter = true;
    this.log?.warn(
      { error: e },
      "a handler error reached the transport as Nest's generic {status:'error'} object: register FleetRpcExceptionFilter (createFleetMicroservice does) so that CommandFailure codes and error messages are kept",
    );
  }

  private commandBinding(route: string, pattern: unknown, handler: MessageHandler): CommandBinding {
    if (!isCommandSelector(pattern)) return { route, ref: commandRefOf(pattern, route), serve: {}, handler };
    const where = `@MessagePattern(${route})`;
    if (!SCOPES.includes(pattern.scope)) throw new Error(`${where}: scope must be one of ${SCOPES.join(', ')}`);
    const ref = commandRefOf(pattern.command, route);
    if (pattern.scope === 'broadcast') return { route, ref, serve: { broadcast: true }, handler };
    if (pattern.scope === 'service') return { route, ref, serve: {}, handler };
    if (pattern.scope === 'scoped') return { route, ref, serve: { scoped: true }, handler };
    const instance = this.options.instance;
    if (instance === undefined || instance === '') throw new Error(`${where}: scope 'instance' needs the transport's instance option`);
    return { route, ref, serve: { instance }, handler };
  }

  /** `{name}` replaced by its placeholder value; in a durable name, with what it cannot hold as `_`. */
  private fill(text: string, where: string, durable: boolean): string {
    return text.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => {
      const value = this.options.placeholders?.[name];
      if (value === undefined) throw new Error(`${where}: no value for {${name}} (FleetTransportOptions.placeholders)`);
      return durable ? value.replace(/[^A-Za-z0-9_-]/g, '_') : value;
    });
  }

  private consumerBinding(route: string, pattern: unknown, handler: MessageHandler, subjects: Subjects): ConsumerBinding {
    const where = `@EventPattern(${route})`;
    let selector: FleetEventSelector;
    if (typeof pattern === 'string') selector = { type: pattern, durable: defaultDurableName(this.options.serviceName, pattern) };
    else if (isEventDefinition(pattern)) selector = { type: pattern.type, durable: defaultDurableName(this.options.serviceName, pattern.type) };
    else if (isSelector(pattern)) selector = pattern;
    else throw new Error(`${where}: expected an event type, an EventDefinition or { type?, area?, streamId?, durable }`);

    const { type, area } = selector;
    const durable = this.fill(selector.durable, where, true).slice(0, 200);
    const streamId = selector.streamId === undefined ? undefined : this.fill(selector.streamId, where, false);
    const tuning: FleetConsumerTuning = {};
    for (const k of TUNING_KEYS) if (selector[k] !== undefined) Object.assign(tuning, { [k]: selector[k] });
    if (!DURABLE_NAME.test(durable)) throw new Error(`${where}: invalid durable name "${durable}" (letters, digits, _ and - only)`);
    if (area !== undefined && !STREAM_AREAS.includes(area)) throw new Error(`${where}: unknown area "${area}" (one of ${STREAM_AREAS.join(', ')})`);
    const types = type === undefined ? [] : typeof type === 'string' ? [type] : [...type];
    const filters = new Set<string>();
    for (const t of types) {
      const def = this.catalog.get(t);
      if (!def) throw new Error(`${where}: unknown event type "${t}"`);
      if (area !== undefined && def.area !== area) throw new Error(`${where}: ${t} is a ${def.area} event, not ${area}`);
      filters.add(subjects.eventFilter({ area: def.area, type: t, ...(streamId !== undefined ? { streamId } : {}) }));
    }
    if (types.length === 0) filters.add(subjects.eventFilter({ ...(area !== undefined ? { area } : {}), ...(streamId !== undefined ? { streamId } : {}) }));
    return { route, name: durable, filters: [...filters], tuning, handler };
  }

  private checkUnique(commands: CommandBinding[], consumers: ConsumerBinding[]): void {
    const seen = new Map<string, string>();
    const claim = (key: string, route: string, what: string): void => {
      const other = seen.get(key);
      if (other !== undefined) throw new Error(`${what} is bound twice, by ${other} and ${route}`);
      seen.set(key, route);
    };
    for (const c of commands) {
      const scope = c.serve.broadcast ? 'broadcast ' : c.serve.instance !== undefined ? 'instance ' : c.serve.scoped ? 'scoped ' : '';
      claim(`cmd:${scope}${c.ref.service}.${c.ref.verb}`, c.route, `${scope}command ${c.ref.service}.${c.ref.verb}`);
    }
    for (const c of consumers) claim(`consumer:${c.name}`, c.route, `durable consumer ${c.name}`);
  }
}
