// Request validation names the field, and the generated OpenAPI document is valid OpenAPI 3.1 with
// every route of the table in it (the real validator; no servers).
import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { Validator } from '@seriousme/openapi-schema-validator';
import { gatewayRoutes } from '../gateway';
import { TokenStore, tokenRoleSatisfies } from '../tokens/token-store';
import { openApiDocument, openApiPath } from './openapi';
import { Problem } from './problem';
import { validatePart } from './route';
import { eventMatches } from '../routes/events';
import type { RecordedEvent } from '@fleetvisor/contracts';

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof Problem) return e.extra.field;
    throw e;
  }
  return undefined;
};

describe('validatePart', () => {
  const query = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })), open: Type.Optional(Type.Boolean()) }, { additionalProperties: false });

  it('converts query strings to the schema types', () => {
    expect(validatePart('query', query, { limit: '5', open: 'true' })).toEqual({ limit: 5, open: true });
  });

  it('names the offending field, and an unknown one by its own name', () => {
    expect(fieldOf(() => validatePart('query', query, { limit: 'abc' }))).toBe('query.limit');
    expect(fieldOf(() => validatePart('query', query, { limit: '11' }))).toBe('query.limit');
    expect(fieldOf(() => validatePart('query', query, { colour: 'red' }))).toBe('query.colour');
    const body = Type.Object({ state: Type.Optional(Type.String({ pattern: '^[A-Z]' })) }, { additionalProperties: false });
    expect(fieldOf(() => validatePart('body', body, { state: 7 }))).toBe('body.state');
    // a body is taken as sent: no conversion of "7" into a number or the reverse
    expect(fieldOf(() => validatePart('body', Type.Object({ n: Type.Integer() }), { n: '7' }))).toBe('body.n');
  });

  it('refuses a body on a route that takes none', () => {
    expect(fieldOf(() => validatePart('body', undefined, { x: 1 }))).toBe('body');
    expect(validatePart('body', undefined, undefined)).toEqual({});
  });
});

describe('the OpenAPI document', () => {
  const routes = gatewayRoutes(new TokenStore(undefined as never), 'gateway-test');

  it('is valid OpenAPI 3.1 and has every route of the table with its role', async () => {
    const doc = openApiDocument(routes, { version: '0.0.0-test' });
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    const paths = doc.paths as Record<string, Record<string, { 'x-fleetvisor-role': string; operationId: string }>>;
    for (const r of routes) expect(paths[openApiPath(r.path)]?.[r.method.toLowerCase()]).toMatchObject({ 'x-fleetvisor-role': r.role, operationId: r.operationId });
    expect(new Set(routes.map((r) => r.operationId)).size).toBe(routes.length);
    // The validator compiles the OpenAPI meta-schema first, which can outlast the default test timeout.
  }, 30_000);

  it('every mutating route needs at least operate', () => {
    for (const r of routes.filter((x) => x.method !== 'GET')) expect(tokenRoleSatisfies(r.role, 'operate'), `${r.method} ${r.path}`).toBe(true);
  });
});

describe('event filters', () => {
  const e = (stream: string, occurredAt: string) => ({ stream, occurredAt }) as RecordedEvent;
  it('matches a stream exactly or by a prefix ending in *, and a time range [since, until)', () => {
    expect(eventMatches(e('worker-w1', '2026-01-01T00:00:00Z'), { stream: 'worker-w1' })).toBe(true);
    expect(eventMatches(e('worker-w10', '2026-01-01T00:00:00Z'), { stream: 'worker-w1' })).toBe(false);
    expect(eventMatches(e('worker-w10', '2026-01-01T00:00:00Z'), { stream: 'worker-*' })).toBe(true);
    expect(eventMatches(e('host-h', '2026-01-01T00:00:00Z'), { stream: 'worker-*' })).toBe(false);
    expect(eventMatches(e('x', '2026-01-01T00:00:00Z'), { since: '2026-01-01T00:00:00Z', until: '2026-01-01T00:00:01Z' })).toBe(true);
    expect(eventMatches(e('x', '2026-01-01T00:00:01Z'), { until: '2026-01-01T00:00:01Z' })).toBe(false);
  });
});
