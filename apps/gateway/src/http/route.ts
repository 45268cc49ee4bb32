// A REST route as data: method, path, the role it needs, the TypeBox schemas of its parameters,
// query, body and response, and a handler. The same table registers the Fastify routes, validates
// requests (400 naming the field) and generates the OpenAPI document, so the three cannot drift.
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { PostgresEventStore } from '@fleetvisor/event-store/core';
import type { Logger } from '@fleetvisor/platform';
import type { TokenHolder, TokenRole } from '../tokens/token-store';
import type { GatewayBus } from './gateway-bus';
import { Problem } from './problem';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RouteDeps {
  bus: GatewayBus;
  store: Pick<PostgresEventStore, 'readAll' | 'readStream' | 'headCheckpoint'>;
  logger: Logger;
}

export interface RouteInput<P extends TObject, Q extends TObject, B extends TObject> {
  params: Static<P>;
  query: Static<Q>;
  body: Static<B>;
  holder: TokenHolder;
}

export interface RouteDef<P extends TObject = TObject, Q extends TObject = TObject, B extends TObject = TObject, R extends TSchema = TSchema> {
  method: HttpMethod;
  /** Fastify syntax: /api/v1/workers/:worker */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  role: TokenRole;
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  handle(input: RouteInput<P, Q, B>, deps: RouteDeps): Promise<Static<R>>;
}

export function route<P extends TObject, Q extends TObject, B extends TObject, R extends TSchema>(def: RouteDef<P, Q, B, R>): RouteDef {
  return def as unknown as RouteDef;
}

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>();
function checkOf(schema: TSchema): TypeCheck<TSchema> {
  let c = checks.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    checks.set(schema, c);
  }
  return c;
}

/**
 * A request part checked against its schema. Path and query values arrive as strings and are
 * converted first (limit=50 -> 50, open=true -> true); a body is taken as sent.
 */
export function validatePart(part: 'params' | 'query' | 'body', schema: TObject | undefined, raw: unknown): unknown {
  if (!schema) {
    if (part === 'body' && raw !== undefined && raw !== null && !(typeof raw === 'object' && Object.keys(raw).length === 0)) throw new Problem(400, 'this route takes no request body', { field: 'body' });
    return {};
  }
  let value: unknown = raw ?? {};
  if (part !== 'body') value = Value.Convert(schema, Value.Clone(value));
  const check = checkOf(schema);
  if (check.Check(value)) return value;
  const first = check.Errors(value).First();
  const pointer = first?.path ?? '';
  const name = pointer.replace(/^\//, '').replace(/\//g, '.');
  let detail = first ? `${part}${name ? '.' + name : ''}: ${first.message}` : `${part} is invalid`;
  // additionalProperties: name the unknown field itself rather than the object.
  if (first && first.schema && (first.schema as TObject).additionalProperties === false && typeof first.value === 'object' && first.value !== null) {
    const known = Object.keys((first.schema as TObject).properties ?? {});
    const extra = Object.keys(first.value).find((k) => !known.includes(k));
    if (extra !== undefined) {
      detail = `${part}${name ? '.' + name : ''}.${extra}: unknown field (known: ${known.join(', ') || 'none'})`;
      return fail(`${part}${name ? '.' + name : ''}.${extra}`, detail);
    }
  }
  return fail(`${part}${name ? '.' + name : ''}`, detail);
}

function fail(field: string, detail: string): never {
  throw new Problem(400, detail, { field });
}
