// Everything the gateway serves, registered on one Fastify instance (the one under Nest's
// FastifyAdapter): the route table behind bearer-token auth and a per-token rate limit, the live
// event stream, health, metrics, the OpenAPI document, Swagger UI and, when built, the dashboard.
// Every error leaves as RFC 9457 problem+json.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { Type } from '@sinclair/typebox';
import type { Registry } from 'prom-client';
import type { RecordedEvent } from '@fleetvisor/contracts';
import { isCheckpoint } from '@fleetvisor/event-store/core';
import { readiness, type Logger, type ReadinessCheck } from '@fleetvisor/platform';
import { hashToken, tokenRoleSatisfies, type TokenHolder, type TokenRole, type TokenStore } from '../tokens/token-store';
import { eventMatches, eventView, EventFilterSchema, typesOf, type EventFilter } from '../routes/events';
import type { EventFeed } from './event-feed';
import { HttpMetrics } from './http-metrics';
import { openApiDocument } from './openapi';
import { Problem, PROBLEM_CONTENT_TYPE } from './problem';
import { validatePart, type RouteDef, type RouteDeps } from './route';

export interface GatewayHttpOptions {
  routes: readonly RouteDef[];
  deps: RouteDeps;
  tokens: TokenStore;
  feed: EventFeed;
  registry: Registry;
  checks: readonly ReadinessCheck[];
  logger: Logger;
  version: string;
  rateLimit: number;
  rateWindowMs: number;
  corsOrigins: readonly string[];
  dashboardDir: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    fvStart?: bigint;
  }
}

const SSE_HEARTBEAT_MS = 15_000;

// One SSE frame per event, made once however many clients receive it (the feed hands every
// client the same event objects): at 100 clients, serialising per client was most of the cost.
const frames = new WeakMap<RecordedEvent, string>();
function sseFrame(e: RecordedEvent): string {
  let f = frames.get(e);
  if (f === undefined) {
    f = `id: ${e.checkpoint}\ndata: ${JSON.stringify(eventView(e))}\n\n`;
    frames.set(e, f);
  }
  return f;
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

/** The token holder, or a 401 / 403 Problem. Nothing is asked of any service before this passes. */
export async function authorize(tokens: TokenStore, req: FastifyRequest, needed: TokenRole): Promise<TokenHolder> {
  const token = bearer(req);
  if (token === undefined) throw new Problem(401, 'this needs a bearer token: Authorization: Bearer <token> (`fleetvisor token create`)');
  const holder = await tokens.authenticate(token);
  if (!holder) throw new Problem(401, 'the token is unknown or revoked');
  if (!tokenRoleSatisfies(holder.role, needed)) throw new Problem(403, `token ${holder.name} has role ${holder.role}; this needs ${needed}`);
  return holder;
}

function sendProblem(reply: FastifyReply, req: FastifyRequest, p: Problem): FastifyReply {
  if (p.status === 401) void reply.header('www-authenticate', 'Bearer realm="fleetvisor"');
  return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p.body(req.url.split('?')[0]!));
}

function sseFilterOf(req: FastifyRequest): { from: string | undefined; filter: EventFilter } {
  const query = validatePart('query', Type.Object({ after: Type.Optional(Type.String({ pattern: '^\\d{1,20}:\\d{1,19}$' })), ...EventFilterSchema }, { additionalProperties: false }), req.query) as EventFilter & {
    after?: string;
  };
  const header = req.headers['last-event-id'];
  const last = typeof header === 'string' && header !== '' ? header : undefined;
  if (last !== undefined && !isCheckpoint(last)) throw new Problem(400, `Last-Event-ID "${last}" is not a checkpoint of this log (<transaction_id>:<global_position>)`, { field: 'header.last-event-id' });
  // The header wins: it is what a reconnecting browser sends, newer than the URL it was opened with.
  return { from: last ?? query.after, filter: { stream: query.stream, type: query.type } };
}

/**
 * Registers everything in one encapsulated plugin: its error handler and hooks are the gateway's
 * own, whatever Nest installs at the root when it initialises (its not-found handler is answered
 * as problem+json by ProblemFilter).
 */
export async function registerGatewayHttp(root: FastifyInstance, o: GatewayHttpOptions): Promise<void> {
  await root.register(async (app) => registerInContext(app, o));
}

async function registerInContext(app: FastifyInstance, o: GatewayHttpOptions): Promise<void> {
  const metrics = new HttpMetrics(o.registry, () => o.feed.clients);

  app.addHook('onRequest', async (req) => {
    req.fvStart = process.hrtime.bigint();
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const sse = route === '/api/v1/events/stream';
    const seconds = req.fvStart === undefined || sse ? undefined : Number(process.hrtime.bigint() - req.fvStart) / 1e9;
    metrics.observe(req.method, route, reply.statusCode, seconds);
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof Problem) return sendProblem(reply, req, err);
    const e = err as { statusCode?: number; message?: string; validation?: unknown; code?: string };
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      // Fastify's own refusals: unparsable JSON, wrong content type, body too large.
      return sendProblem(reply, req, new Problem(e.statusCode, e.message ?? 'bad request', e.statusCode === 400 ? { field: 'body' } : {}));
    }
    o.logger.error({ err, url: req.url }, 'gateway: request failed');
    return sendProblem(reply, req, new Problem(500, 'internal error (logged by the gateway)'));
  });

  if (o.corsOrigins.length > 0) {
    const cors = (await import('@fastify/cors')).default;
    await app.register(cors, { origin: [...o.corsOrigins], allowedHeaders: ['authorization', 'content-type', 'last-event-id'], methods: ['GET', 'POST', 'DELETE'] });
  }

  if (o.rateLimit > 0) {
    await app.register(fastifyRateLimit, {
      global: true,
      max: o.rateLimit,
      timeWindow: o.rateWindowMs,
      // Per token (by its hash, never the token itself); per client address without one.
      keyGenerator: (req) => {
        const t = bearer(req);
        return t === undefined ? `ip:${req.ip}` : `t:${hashToken(t).toString('base64url')}`;
      },
      allowList: (req) => !req.url.startsWith('/api/'),
      errorResponseBuilder: (_req, ctx) => new Problem(429, `rate limit of ${ctx.max} requests per ${ctx.after === undefined ? 'window' : 'window, retry in ' + ctx.after} reached for this token`),
    });
  }

  for (const r of o.routes) {
    app.route({
      method: r.method,
      url: r.path,
      handler: async (req, reply) => {
        const holder = await authorize(o.tokens, req, r.role);
        const params = validatePart('params', r.params, req.params);
        const query = validatePart('query', r.query, req.query);
        const body = validatePart('body', r.body, req.body);
        const result = await r.handle({ params, query, body, holder } as never, o.deps);
        return reply.type('application/json').send(result);
      },
    });
  }

  app.get('/api/v1/events/stream', async (req, reply) => {
    await authorize(o.tokens, req, 'read');
    const { from, filter } = sseFilterOf(req);
    const types = typesOf(filter);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': fleetvisor event stream\n\n');
    let closed = false;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
    const deliver = (events: readonly RecordedEvent[]) => {
      if (closed) return;
      let chunk = '';
      for (const e of events) {
        if (types && !types.includes(e.type)) continue;
        if (!eventMatches(e, filter)) continue;
        chunk += sseFrame(e);
      }
      if (chunk) res.write(chunk);
    };
    const subscription: { stop?: () => void } = {};
    const forget = o.feed.onStop(() => res.end());
    res.on('close', () => {
      closed = true;
      clearInterval(heartbeat);
      forget();
      subscription.stop?.();
    });
    subscription.stop = await o.feed.subscribe(from, deliver, () => closed);
    // The client may have gone while the catch-up ran.
    if (closed) subscription.stop();
  });

  app.get('/health/live', async () => ({ status: 'live' }));
  app.get('/health/ready', async (_req, reply) => {
    const report = await readiness(o.checks);
    return reply.code(report.status === 'ready' ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_req, reply) => reply.type(o.registry.contentType).send(await o.registry.metrics()));

  const doc = openApiDocument(o.routes, { version: o.version });
  app.get('/openapi.json', async () => doc);
  // Swagger UI from swagger-ui-dist, served locally (no CDN): its files under /docs/, and a page
  // that points it at /openapi.json.
  // absolute-path.js, not the package's index: that one loads the whole browser bundle at start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const swaggerDir = (require('swagger-ui-dist/absolute-path.js') as () => string)();
  await app.register(fastifyStatic, { root: swaggerDir, prefix: '/docs/', index: false, decorateReply: false });
  app.get('/docs', async (_req, reply) => reply.type('text/html; charset=utf-8').send(SWAGGER_PAGE));
  app.get('/docs/swagger-init.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').send("window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });\n"),
  );

  // The dashboard's bundle (apps/dashboard, built by Vite) beside the compiled gateway in dist/apps.
  const dashboard = o.dashboardDir ?? path.resolve(__dirname, '..', '..', '..', 'dashboard');
  // Built, not the source page (its index.html names .tsx files a browser cannot load).
  if (existsSync(path.join(dashboard, 'index.html')) && existsSync(path.join(dashboard, 'assets'))) {
    await app.register(fastifyStatic, { root: dashboard, prefix: '/', decorateReply: false, wildcard: true });
  } else {
    app.get('/', async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send('<!doctype html><title>Fleetvisor gateway</title><p>Fleetvisor gateway. API: <a href="/docs">/docs</a> (<a href="/openapi.json">openapi.json</a>). The dashboard is not built.</p>'),
    );
  }
}

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Fleetvisor gateway API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body></html>
`;
