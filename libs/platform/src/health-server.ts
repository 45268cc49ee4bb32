// The health and metrics endpoints every long-running Fleetvisor process serves on
// FLEETVISOR_HEALTH_LISTEN, so that an orchestrator (Docker's HEALTHCHECK, Kubernetes probes,
// systemd watchdogs via curl) and Prometheus ask every service the same way:
//   GET /health/live   200 while the process answers at all (restart it when this fails)
//   GET /health/ready  200 when every readiness check passes, else 503 naming the failing ones
//                      (take it out of rotation; it may recover by itself)
//   GET /metrics       Prometheus text exposition
// Plain node:http: a service that is failing must still be able to say so, so the endpoint
// depends on nothing the service itself uses.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger';
import { parseListen } from './config';

export interface ReadinessCheck {
  /** Short name shown in the 503 body, e.g. "postgres", "nats", "leader-lock". */
  name: string;
  /** Resolves when ready; throws (or rejects) with the reason when not. */
  check(): Promise<void> | void;
}

export interface MetricsSource {
  contentType: string;
  text(): Promise<string>;
}

export interface HealthServerOptions {
  /** host:port; port 0 takes a free one. */
  listen: string;
  checks: readonly ReadinessCheck[];
  metrics?: MetricsSource;
  logger: Logger;
  /** A check that takes longer is failed (default 2 s): a hung dependency is not ready. */
  checkTimeoutMs?: number;
}

export interface HealthServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ReadinessReport {
  status: 'ready' | 'unready';
  checks: { name: string; ok: boolean; error?: string }[];
}

/** Runs every check at once, each bounded by the timeout. */
export async function readiness(checks: readonly ReadinessCheck[], timeoutMs = 2_000): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(() => c.check()),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return { name: c.name, ok: true };
      } catch (e) {
        return { name: c.name, ok: false, error: e instanceof Error ? e.message : String(e) };
      } finally {
        if (timer) clearTimeout(timer);
      }
    }),
  );
  return { status: results.every((r) => r.ok) ? 'ready' : 'unready', checks: results };
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = parseListen('FLEETVISOR_HEALTH_LISTEN', opts.listen);
  const json = (status: number, body: unknown): [number, Record<string, string>, string] => [status, { 'content-type': 'application/json' }, JSON.stringify(body)];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = ([status, headers, body]: [number, Record<string, string>, string]): void => {
      res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/health/live') return send(json(200, { status: 'live' }));
    if (path === '/health/ready') {
      readiness(opts.checks, opts.checkTimeoutMs).then(
        (r) => send(json(r.status === 'ready' ? 200 : 503, r)),
        (e: unknown) => send(json(503, { status: 'unready', error: String(e) })),
      );
      return;
    }
    if (path === '/metrics' && opts.metrics) {
      const m = opts.metrics;
      m.text().then(
        (text) => send([200, { 'content-type': m.contentType }, text]),
        (e: unknown) => {
          opts.logger.warn({ err: e }, 'metrics collection failed');
          send([500, { 'content-type': 'text/plain' }, 'metrics collection failed\n']);
        },
      );
      return;
    }
    send([404, { 'content-type': 'text/plain' }, `not found: try /health/live, /health/ready${opts.metrics ? ', /metrics' : ''}\n`]);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  opts.logger.info({ host, port: bound }, 'health and metrics: GET /health/live, /health/ready, /metrics');
  return {
    host,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
