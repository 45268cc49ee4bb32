// The OpenAPI 3.1 document, generated from the route table: every path, parameter, body and
// response schema is the TypeBox schema the route validates with (most of them the contracts'
// command schemas), so there is no second, hand-kept copy to drift. Only the endpoints that are
// not JSON (the SSE stream, health, metrics) are described by hand here.
import type { TObject, TSchema } from '@sinclair/typebox';
import { ProblemSchema } from './problem';
import type { RouteDef } from './route';
import { RecordedEventSchema, EventFilterSchema, CHECKPOINT_DESCRIPTION } from '../routes/events';

type Json = Record<string, unknown>;

/** A TypeBox schema as plain JSON Schema (TypeBox's symbol keys dropped). */
export function jsonSchema(s: TSchema): Json {
  return JSON.parse(JSON.stringify(s)) as Json;
}

const problemRef = { $ref: '#/components/schemas/Problem' };
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: problemRef } } });

function parameters(where: 'path' | 'query', schema: TObject | undefined): Json[] {
  if (!schema) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const plain = jsonSchema(s);
    const description = plain.description;
    return { name, in: where, required: where === 'path' || required.has(name), schema: plain, ...(typeof description === 'string' ? { description } : {}) };
  });
}

function operation(r: RouteDef): Json {
  const responses: Json = {
    200: { description: 'OK', content: { 'application/json': { schema: jsonSchema(r.response) } } },
    400: problem('The request is invalid; `field` names the field'),
    401: problem('No token, or an unknown or revoked one'),
    403: problem(`The token's role is too weak: this needs ${r.role}`),
    429: problem('Too many requests for this token'),
    503: problem('A service or the log does not answer'),
  };
  if (r.path.includes(':')) responses[404] = problem('Not found');
  if (r.method !== 'GET') {
    responses[409] = problem('Conflict');
    responses[502] = problem('The service did not accept the gateway\'s signed command');
    responses[504] = problem('The service did not answer in time');
  }
  return {
    operationId: r.operationId,
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    tags: [r.tag],
    'x-fleetvisor-role': r.role,
    security: [{ bearer: [] }],
    parameters: [...parameters('path', r.params), ...parameters('query', r.query)],
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } } : {}),
    responses,
  };
}

export const openApiPath = (fastifyPath: string): string => fastifyPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function openApiDocument(routes: readonly RouteDef[], info: { version: string }): Json {
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const p = (paths[openApiPath(r.path)] ??= {});
    p[r.method.toLowerCase()] = operation(r);
  }
  paths['/api/v1/events/stream'] = {
    get: {
      operationId: 'streamEvents',
      summary: 'Live events as Server-Sent Events; resume with Last-Event-ID',
      description:
        'Each event is one SSE message: `id` = its checkpoint (the position to resume from), `data` = the event as JSON (RecordedEvent). ' +
        'Send `Last-Event-ID` (browsers do it on reconnect) or `?after=` to receive every event after that position first. Without either, the stream starts at the end of the log. ' +
        `A comment line is sent every 15 s to keep proxies from closing an idle stream. ${CHECKPOINT_DESCRIPTION}.`,
      tags: ['events'],
      'x-fleetvisor-role': 'read',
      security: [{ bearer: [] }],
      parameters: [
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string', pattern: '^\\d+:\\d+$' } },
        { name: 'after', in: 'query', required: false, schema: { type: 'string', pattern: '^\\d+:\\d+$' } },
        ...Object.entries(EventFilterSchema).map(([name, s]) => ({ name, in: 'query', required: false, schema: jsonSchema(s) })),
      ],
      responses: {
        200: { description: 'The stream', content: { 'text/event-stream': { schema: { type: 'string' }, 'x-event-data': jsonSchema(RecordedEventSchema) } } },
        400: problem('Invalid Last-Event-ID or filter'),
        401: problem('No token, or an unknown or revoked one'),
        429: problem('Too many requests for this token'),
      },
    },
  };
  paths['/health/live'] = { get: { operationId: 'live', summary: 'The process answers', tags: ['health'], security: [], responses: { 200: { description: 'Alive', content: { 'application/json': { schema: { type: 'object' } } } } } } };
  paths['/health/ready'] = {
    get: {
      operationId: 'ready',
      summary: 'PostgreSQL and NATS answer',
      tags: ['health'],
      security: [],
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
        503: { description: 'Not ready; the failing checks say why', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
      },
    },
  };
  paths['/metrics'] = { get: { operationId: 'metrics', summary: 'Prometheus metrics (text exposition format)', tags: ['health'], security: [], responses: { 200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Fleetvisor gateway',
      version: info.version,
      description: 'REST over the Fleetvisor fleet: workers, services, upgrades, chains, call statistics, hosts and the event log. Bearer tokens with roles read < operate < admin (`fleetvisor token create`). Every error is RFC 9457 problem+json.',
    },
    servers: [{ url: '/' }],
    tags: ['workers', 'hosts', 'services', 'upgrades', 'chains', 'stats', 'events', 'tokens', 'health'].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from `fleetvisor token create`' } },
      schemas: {
        Problem: jsonSchema(ProblemSchema),
        Readiness: {
          type: 'object',
          required: ['status', 'checks'],
          properties: {
            status: { enum: ['ready', 'unready'] },
            checks: { type: 'array', items: { type: 'object', required: ['name', 'ok'], properties: { name: { type: 'string' }, ok: { type: 'boolean' }, error: { type: 'string' } } } },
          },
        },
      },
    },
  };
}
