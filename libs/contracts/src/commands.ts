// Commands are NATS request-reply on <root>.cmd.<service>.<verb>; every reply has this shape.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { describeFirstError, type ParseResult } from './catalog';
import type { KeyRole } from './trust';

export const CommandErrorSchema = Type.Object({
  code: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
  message: Type.String(),
});
export type CommandError = Static<typeof CommandErrorSchema>;

export type CommandReply<TResult = unknown> = { ok: true; result?: TResult } | { ok: false; error: CommandError };

export const CommandReplySchema = Type.Union([
  Type.Object({ ok: Type.Literal(true), result: Type.Optional(Type.Unknown()) }),
  Type.Object({ ok: Type.Literal(false), error: CommandErrorSchema }),
]);

/** Well-known error codes; services may add their own (snake_case). */
export const CommandErrorCodes = {
  invalidRequest: 'invalid_request',
  notFound: 'not_found',
  conflict: 'conflict',
  timeout: 'timeout',
  unavailable: 'unavailable',
  internal: 'internal',
  /** No valid identity: unsigned, bad or expired signature, unknown or revoked key, replay. */
  unauthorized: 'unauthorized',
  /** A valid identity whose role is too weak. */
  forbidden: 'forbidden',
} as const;

export interface CommandDefinition<TReq extends TSchema = TSchema, TRes extends TSchema = TSchema> {
  readonly service: string;
  readonly verb: string;
  readonly request: TReq;
  readonly result: TRes;
  readonly description: string;
  /**
   * Set for commands served per instance (CommandBus `serve(def, h, { instance })`): what the
   * instance token is, e.g. 'name' for fleet.cmd.worker-agent.<name>.<verb>. Documentation only.
   */
  readonly instance?: string;
  /**
   * Set for every command that changes something: the role its signer needs (ADR 0006). The
   * request must carry a valid Fleet-Auth signature by a key with that role; the recorded actor is
   * that key's name. Unset for queries.
   */
  readonly role?: KeyRole;
  /**
   * Set for scoped commands (CommandBus `serve(def, h, { scoped: true })`): what the last token
   * names, e.g. 'host' for fleet.cmd.event-intake.append.<host>. Documentation only.
   */
  readonly scope?: string;
}

/** Service and verb names: lowercase words joined by '-' (they are subject tokens). */
export const COMMAND_NAME_PATTERN = '^[a-z][a-z0-9]*(-[a-z0-9]+)*$';

export function defineCommand<TReq extends TSchema, TRes extends TSchema>(def: CommandDefinition<TReq, TRes>): CommandDefinition<TReq, TRes> {
  const name = new RegExp(COMMAND_NAME_PATTERN);
  if (!name.test(def.service) || !name.test(def.verb)) {
    throw new Error(`command ${def.service}.${def.verb}: service and verb must match ${COMMAND_NAME_PATTERN}`);
  }
  return Object.freeze({ ...def });
}

export type CommandRequestOf<C extends CommandDefinition> = Static<C['request']>;
export type CommandResultOf<C extends CommandDefinition> = Static<C['result']>;

/** The reply schema of one command: `{ ok: true, result }` or `{ ok: false, error }`. */
export function commandReplySchema<TRes extends TSchema>(result: TRes) {
  return Type.Union([
    Type.Object({ ok: Type.Literal(true), result }, { additionalProperties: false }),
    Type.Object({ ok: Type.Literal(false), error: CommandErrorSchema }, { additionalProperties: false }),
  ]);
}

const requestChecks = new WeakMap<CommandDefinition, TypeCheck<TSchema>>();
const replyChecks = new WeakMap<CommandDefinition, TypeCheck<TSchema>>();

function cachedCheck(cache: WeakMap<CommandDefinition, TypeCheck<TSchema>>, def: CommandDefinition, schema: () => TSchema): TypeCheck<TSchema> {
  let check = cache.get(def);
  if (!check) {
    check = TypeCompiler.Compile(schema());
    cache.set(def, check);
  }
  return check;
}

/** Validates a command request (what a responder must do before acting on it). */
export function parseCommandRequest<C extends CommandDefinition>(def: C, raw: unknown): ParseResult<CommandRequestOf<C>> {
  const check = cachedCheck(requestChecks, def, () => def.request);
  if (!check.Check(raw)) return { ok: false, reason: describeFirstError(check, raw, `${def.service}.${def.verb} request`) };
  return { ok: true, value: raw as CommandRequestOf<C> };
}

/** Validates a command reply (what a requester should do before trusting it). */
export function parseCommandReply<C extends CommandDefinition>(def: C, raw: unknown): ParseResult<CommandReply<CommandResultOf<C>>> {
  const check = cachedCheck(replyChecks, def, () => commandReplySchema(def.result));
  if (!check.Check(raw)) return { ok: false, reason: describeFirstError(check, raw, `${def.service}.${def.verb} reply`) };
  return { ok: true, value: raw as CommandReply<CommandResultOf<C>> };
}
