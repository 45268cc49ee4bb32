// Commands: NATS request-reply on <root>.cmd.<service>.<verb>. Servers join a queue group per
// service so replicas share the load; every reply has the CommandReply shape. Requests and (when the
// command declares them) results are validated against the command's TypeBox schemas.
import { ErrorCode, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import {
  CommandErrorCodes,
  decodeSubjectToken,
  CommandReplySchema,
  encodeSubjectToken,
  type CommandDefinition,
  type CommandReply,
  type CommandRequestOf,
  type CommandResultOf,
  type Subjects,
} from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { COMMAND_AUTH_HEADER, type CommandActor, type KeyRole } from '@fleetvisor/contracts';
import {
  encodeCommandAuth,
  keysBucketName,
  NonceCache,
  signCommand,
  verifyCommand,
  watchRevocations,
  type Refusal,
  type RevocationWatch,
  type Signer,
  type TrustVerifier,
  type VerifiedIdentity,
} from '@fleetvisor/trust';

/** Throw from a command handler to reply `{ok:false, error:{code, message}}` with your own code. */
export class CommandFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CommandFailure';
    if (!/^[a-z][a-z0-9_]*$/.test(code)) throw new Error(`CommandFailure: code must be snake_case, got "${code}"`);
  }
}

/** A command by name only (no schemas): payloads and results are unchecked. */
export interface CommandRef {
  service: string;
  verb: string;
  request?: TSchema;
  result?: TSchema;
  /** The role a signer needs (mutating commands); see CommandDefinition.role. */
  role?: KeyRole;
}

export interface CommandContext {
  subject: string;
  service: string;
  verb: string;
  headers: MsgHdrs | undefined;
  logger: Logger;
  /** Of a scoped command: the identity the subject names (its last token, decoded). */
  scope?: string;
  /** Of a signed command (one whose definition has a role): who signed it, verified. Record identity.name as the actor. */
  identity?: VerifiedIdentity;
  /** Of a signed command: its id (the nonce), the causationId of what it causes. */
  commandId?: string;
  /** Of a signed command: when it was signed (ms since 1970). */
  signedAt?: number;
}

/** A refused command, for the caller's counters and rate-limited reports (never the body). */
export interface CommandRefusal {
  subject: string;
  code: 'unauthorized' | 'forbidden';
  reason: string;
  signer?: { kid: string; name: string };
}

/** A refused command as a RefusalReporter takes it: its rate-limit unit is the command's subject, which a sender cannot multiply. */
export function commandRefusalReport(r: CommandRefusal): Refusal {
  return { kind: 'command', source: `command:${r.subject}`, subject: r.subject, code: r.code, reason: r.reason };
}

/** What a process signs commands with and verifies them by (CommandBusOptions.signer / auth). */
export interface CommandTrust {
  signer?: Signer;
  auth?: CommandAuthOptions;
}

/** How a bus checks signed commands it serves (ADR 0006). */
export interface CommandAuthOptions {
  verifier: TrustVerifier;
  /** Command ids seen (default: one cache per bus). */
  nonces?: NonceCache;
  onRefused?: (refusal: CommandRefusal) => void;
  /**
   * Watch the `<root>_keys` bucket and feed its revocations to the verifier (default true). False
   * for a process that watches them itself with the same verifier (the service-runner).
   */
  watchRevocations?: boolean;
}

export type CommandHandler<C extends CommandDefinition> = (request: CommandRequestOf<C>, ctx: CommandContext) => Promise<CommandResultOf<C> | void>;
export type UntypedCommandHandler = (request: unknown, ctx: CommandContext) => Promise<unknown>;

export interface CommandServer {
  readonly subject: string;
  /**
   * Resolves once the server has registered the subscription (a round trip to NATS). A request
   * sent from another connection before that may find no responder and come back `unavailable`.
   */
  readonly ready: Promise<void>;
  /** Stops taking requests, waits for those in progress to reply. */
  stop(): Promise<void>;
}

export interface CommandBusOptions {
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  /** Queue group per service (default `<root>-<service>`); replicas in one group share requests. */
  queueGroup?: (service: string) => string;
  /** Default request timeout (5000 ms). */
  defaultTimeoutMs?: number;
  /** Signs requests of commands that have a role. Without it, such requests fail locally, unsent. */
  signer?: Signer;
  /** Verifies requests of served commands that have a role. Serving such a command without it is a programming error. */
  auth?: CommandAuthOptions;
}

export interface RequestOptions {
  timeoutMs?: number;
  headers?: MsgHdrs;
  /** Address the request to one instance of the service (it serves with the same `instance`). */
  instance?: string;
  /** Send a scoped command for this identity (the server serves with `scoped: true`). */
  scope?: string;
  /** The id to sign a command with (default: a new UUID); e.g. a central service passing on the id of the command it serves. */
  commandId?: string;
  /** Sign on behalf of this token holder (the REST gateway, whose key has role gateway; ADR 0010). */
  act?: CommandActor;
}

export interface ServeOptions {
  /** Serve only requests addressed to this instance: <root>.cmd.<service>.<instance>.<verb>. */
  instance?: string;
  /**
   * Every instance hears the service-wide subject (no queue group) and answers only what it has
   * an answer to: a request that is invalid, a handler that returns undefined and a handler that
   * fails get no reply, since the caller gathers the answers of many instances (requestMany)
   * and a refusal from one must not read as an answer. Not with `instance`.
   */
  broadcast?: boolean;
  /**
   * Serve <root>.cmd.<service>.<verb>.* in the service's queue group: each request names the
   * identity it is sent for in its last subject token (ctx.scope), which a NATS permission can
   * restrict to that identity's credential. The handler must check the body agrees with ctx.scope.
   */
  scoped?: boolean;
}

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>();
function compiled(schema: TSchema): TypeCheck<TSchema> {
  let c = checks.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    checks.set(schema, c);
  }
  return c;
}
const replyCheck = TypeCompiler.Compile(CommandReplySchema);

/** First validation error, as `at /path: message`. */
export function validationError(schema: TSchema, value: unknown, what: string): string | undefined {
  const check = compiled(schema);
  if (check.Check(value)) return undefined;
  const err = check.Errors(value).First();
  if (!err) return `${what} is invalid`;
  return `${what}${err.path ? ` at ${err.path}` : ''}: ${err.message}`;
}

function failure(code: string, message: string): CommandReply<never> {
  return { ok: false, error: { code, message } };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class CommandBus {
  private readonly nc: NatsConnection;
  private readonly subjects: Subjects;
  private readonly log: Logger;
  private readonly queueGroup: (service: string) => string;
  private readonly defaultTimeoutMs: number;
  private readonly servers = new Set<CommandServer>();
  private readonly signer: Signer | undefined;
  private readonly auth: (CommandAuthOptions & { nonces: NonceCache }) | undefined;
  private readonly revocations: RevocationWatch | undefined;

  constructor(opts: CommandBusOptions) {
    this.signer = opts.signer;
    this.auth = opts.auth ? { ...opts.auth, nonces: opts.auth.nonces ?? new NonceCache() } : undefined;
    // A revoked key must be refused without a database: the revocations come over the bus.
    if (opts.auth && opts.auth.watchRevocations !== false) {
      this.revocations = watchRevocations(opts.nc, opts.auth.verifier, { logger: opts.logger, bucket: keysBucketName(opts.subjects.root) });
    }
    this.nc = opts.nc;
    this.subjects = opts.subjects;
    this.log = opts.logger.child({ component: 'command-bus' });
    this.queueGroup = opts.queueGroup ?? ((service) => `${opts.subjects.root}-${encodeSubjectToken(service)}`);
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 5_000;
  }

  private subjectOf(ref: CommandRef, instance: string | undefined, scope?: string): string {
    if (scope !== undefined) return this.subjects.scopedCommand(ref.service, ref.verb, scope);
    return instance === undefined ? this.subjects.command(ref.service, ref.verb) : this.subjects.instanceCommand(ref.service, instance, ref.verb);
  }

  /** Serves a command; with `instance`, only requests addressed to that instance (e.g. one worker-agent). */
  serve<C extends CommandDefinition>(def: C, handler: CommandHandler<C>, opts?: ServeOptions): CommandServer;
  serve(ref: CommandRef, handler: UntypedCommandHandler, opts?: ServeOptions): CommandServer;
  serve(ref: CommandRef, handler: UntypedCommandHandler, opts: ServeOptions = {}): CommandServer {
    if ([opts.broadcast === true, opts.instance !== undefined, opts.scoped === true].filter(Boolean).length > 1) {
      throw new Error(`CommandBus.serve(${ref.service}.${ref.verb}): broadcast, instance and scoped exclude each other`);
    }
    if (ref.role !== undefined && !this.auth) {
      throw new Error(`CommandBus.serve(${ref.service}.${ref.verb}): the command needs a signer with role ${ref.role}, and this bus has no trust verifier (CommandBusOptions.auth)`);
    }
    const subject = opts.scoped ? this.subjects.scopedCommandWildcard(ref.service, ref.verb) : this.subjectOf(ref, opts.instance);
    const log = this.log.child({ command: `${ref.service}.${ref.verb}`, ...(opts.instance === undefined ? {} : { instance: opts.instance }), ...(opts.broadcast ? { broadcast: true } : {}), ...(opts.scoped ? { scoped: true } : {}) });
    const inFlight = new Set<Promise<void>>();
    const queue = opts.broadcast ? undefined : opts.instance === undefined ? this.queueGroup(ref.service) : `${this.queueGroup(ref.service)}.${encodeSubjectToken(opts.instance)}`;
    const sub: Subscription = this.nc.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (err, msg) => {
        if (err) {
          log.error({ err }, 'command subscription error');
          return;
        }
        const p = this.handle(ref, handler, msg, log, opts.broadcast === true, opts.scoped === true).finally(() => inFlight.delete(p));
        inFlight.add(p);
      },
    });
    log.debug({ subject }, 'serving command');
    const ready = this.nc.flush().catch((err: unknown) => log.warn({ err: errorText(err) }, 'could not confirm the command subscription'));
    const server: CommandServer = {
      subject,
      ready,
      stop: async () => {
        this.servers.delete(server);
        if (!sub.isClosed()) await sub.drain().catch(() => undefined);
        await Promise.allSettled([...inFlight]);
      },
    };
    this.servers.add(server);
    return server;
  }

  private async handle(ref: CommandRef, handler: UntypedCommandHandler, msg: Msg, log: Logger, answersOnly: boolean, scoped: boolean): Promise<void> {
    const reply = await this.execute(ref, handler, msg, log, scoped);
    if (answersOnly && (!reply.ok || reply.result === undefined)) return;
    if (!msg.reply) {
      log.debug('command without reply subject; result dropped');
      return;
    }
    try {
      msg.respond(Buffer.from(JSON.stringify(reply)));
    } catch (e) {
      log.warn({ err: errorText(e) }, 'command reply could not be sent');
    }
  }

  private async execute(ref: CommandRef, handler: UntypedCommandHandler, msg: Msg, log: Logger, scoped: boolean): Promise<CommandReply> {
    let request: unknown;
    try {
      request = msg.data.length === 0 ? undefined : JSON.parse(Buffer.from(msg.data).toString('utf8'));
    } catch (e) {
      return failure(CommandErrorCodes.invalidRequest, `request is not valid JSON: ${errorText(e)}`);
    }
    let signed: Pick<CommandContext, 'identity' | 'commandId' | 'signedAt'> = {};
    if (ref.role !== undefined) {
      // Checked before anything else is looked at: an unsigned request learns nothing of the schema.
      const auth = this.auth!;
      const header = msg.headers?.get(COMMAND_AUTH_HEADER) || undefined;
      const verdict = verifyCommand({ header, subject: msg.subject, body: request, verifier: auth.verifier, needed: ref.role, nonces: auth.nonces });
      if (!verdict.ok) {
        log.warn({ subject: msg.subject, code: verdict.code, reason: verdict.reason }, 'command refused');
        auth.onRefused?.({ subject: msg.subject, code: verdict.code, reason: verdict.reason });
        return failure(verdict.code, `${ref.service}.${ref.verb} refused: ${verdict.reason}`);
      }
      signed = { identity: verdict.identity, commandId: verdict.commandId, signedAt: verdict.signedAt };
    }
    if (ref.request) {
      const problem = validationError(ref.request, request, 'request');
      if (problem) return failure(CommandErrorCodes.invalidRequest, problem);
    }
    let result: unknown;
    try {
      const scope = scoped ? decodeSubjectToken(msg.subject.slice(msg.subject.lastIndexOf('.') + 1)) : undefined;
      result = await handler(request, {
        subject: msg.subject,
        service: ref.service,
        verb: ref.verb,
        headers: msg.headers,
        logger: log,
        ...(scope === undefined ? {} : { scope }),
        ...signed,
      });
    } catch (e) {
      if (e instanceof CommandFailure) return failure(e.code, e.message);
      log.error({ err: e }, 'command handler failed');
      return failure(CommandErrorCodes.internal, errorText(e) || 'internal error');
    }
    if (ref.result && result !== undefined) {
      const problem = validationError(ref.result, result, 'result');
      if (problem) {
        log.error({ problem }, 'command handler returned a result that breaks the contract');
        return failure(CommandErrorCodes.internal, `handler returned an invalid ${problem}`);
      }
    }
    return result === undefined ? { ok: true } : { ok: true, result };
  }

  request<C extends CommandDefinition>(def: C, payload: CommandRequestOf<C>, opts?: RequestOptions): Promise<CommandReply<CommandResultOf<C>>>;
  request(ref: CommandRef, payload: unknown, opts?: RequestOptions): Promise<CommandReply>;
  async request(ref: CommandRef, payload: unknown, opts: RequestOptions = {}): Promise<CommandReply> {
    if (ref.request) {
      const problem = validationError(ref.request, payload, 'request');
      if (problem) return failure(CommandErrorCodes.invalidRequest, problem);
    }
    if (opts.scope !== undefined && opts.instance !== undefined) return failure(CommandErrorCodes.invalidRequest, 'a request has an instance or a scope, not both');
    const subject = this.subjectOf(ref, opts.instance, opts.scope);
    const target = opts.instance === undefined ? ref.service : `${ref.service} ${opts.instance}`;
    const timeout = opts.timeoutMs ?? this.defaultTimeoutMs;
    let hdrs = opts.headers;
    if (ref.role !== undefined) {
      if (!this.signer) {
        return failure(
          CommandErrorCodes.unauthorized,
          `${ref.service}.${ref.verb} must be signed by a key with role ${ref.role}: set FLEETVISOR_SIGNING_KEY_FILE to your key file (\`fleetvisor keys create --role ${ref.role} --name <you>\`); nothing was sent`,
        );
      }
      // The body is signed as the server will parse it: JSON.parse(JSON.stringify(payload)).
      const body: unknown = payload === undefined ? null : JSON.parse(JSON.stringify(payload));
      const auth = signCommand({ subject, body, signer: this.signer, ...(opts.commandId ? { id: opts.commandId } : {}), ...(opts.act ? { act: opts.act } : {}) });
      hdrs = hdrs ?? natsHeaders();
      hdrs.set(COMMAND_AUTH_HEADER, encodeCommandAuth(auth));
    }
    let msg: Msg;
    try {
      const data = payload === undefined ? new Uint8Array(0) : Buffer.from(JSON.stringify(payload));
      msg = await this.nc.request(subject, data, { timeout, ...(hdrs ? { headers: hdrs } : {}) });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === ErrorCode.Timeout) return failure(CommandErrorCodes.timeout, `no reply from ${target} to ${ref.verb} within ${timeout} ms`);
      if (code === ErrorCode.NoResponders) return failure(CommandErrorCodes.unavailable, opts.instance === undefined ? `no ${ref.service} instance serves ${ref.verb}` : `${target} is not reachable (nothing serves ${ref.verb} for it)`);
      if (code === ErrorCode.ConnectionClosed || code === ErrorCode.ConnectionDraining || code === ErrorCode.Disconnect) {
        return failure(CommandErrorCodes.unavailable, `NATS connection unavailable: ${errorText(e)}`);
      }
      return failure(CommandErrorCodes.unavailable, `request failed: ${errorText(e)}`);
    }
    let reply: unknown;
    try {
      reply = JSON.parse(Buffer.from(msg.data).toString('utf8'));
    } catch (e) {
      return failure(CommandErrorCodes.internal, `reply is not valid JSON: ${errorText(e)}`);
    }
    if (!replyCheck.Check(reply)) return failure(CommandErrorCodes.internal, `reply does not have the CommandReply shape`);
    const typed = reply as CommandReply;
    if (typed.ok && ref.result && typed.result !== undefined) {
      const problem = validationError(ref.result, typed.result, 'result');
      if (problem) return failure(CommandErrorCodes.internal, `reply carries an invalid ${problem}`);
    }
    return typed;
  }

  /** Stops every server of this bus, waiting for requests in progress, and the revocation watch. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.servers].map((s) => s.stop()));
    await this.revocations?.stop();
  }
}
