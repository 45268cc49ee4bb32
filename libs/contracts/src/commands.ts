// Commands are NATS request-reply on <root>.cmd.<service>.<verb>; every reply has this shape.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

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
} as const;

export interface CommandDefinition<TReq extends TSchema = TSchema, TRes extends TSchema = TSchema> {
  readonly service: string;
  readonly verb: string;
  readonly request: TReq;
  readonly result: TRes;
  readonly description: string;
}

export function defineCommand<TReq extends TSchema, TRes extends TSchema>(def: CommandDefinition<TReq, TRes>): CommandDefinition<TReq, TRes> {
  return Object.freeze({ ...def });
}

export type CommandRequestOf<C extends CommandDefinition> = Static<C['request']>;
export type CommandResultOf<C extends CommandDefinition> = Static<C['result']>;
