// The gateway's settings, read once from the environment and validated (the only file of this
// app that reads process.env).
import { ConfigError, envReader, parseListen, readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';
import { readTrustConfig, type TrustConfig } from '@fleetvisor/trust';

export interface GatewaySettings {
  /** host:port the REST API listens on. */
  listen: { host: string; port: number };
  /** Requests per token (per client address without a token) per window; 0 = no limit. */
  rateLimit: number;
  rateWindowMs: number;
  /** Origins allowed by CORS; empty = CORS off (no Access-Control-* headers at all). */
  corsOrigins: string[];
  /** How long a token lookup is reused before the table is asked again (revocation takes effect within it). */
  tokenCacheMs: number;
  /** Timeout of one question to a service over NATS. */
  busTimeoutMs: number;
  /** How long fleet-wide questions (services, upgrades) gather the runners' replies. */
  gatherMs: number;
  /** How often the SSE stream looks for new events at the head of the log. */
  ssePollMs: number;
  /** Directory of the built dashboard served at `/` when it exists. */
  dashboardDir: string | undefined;
  poolSize: number;
}

export interface GatewayConfig {
  core: CoreConfig;
  trust: TrustConfig;
  gateway: GatewaySettings;
}

function parseOrigins(v: string | undefined): string[] {
  if (!v) return [];
  return v.split(',').map((o) => {
    const origin = o.trim();
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      throw new ConfigError('FLEETVISOR_GATEWAY_CORS_ORIGINS', `"${origin}" is not an origin like https://ops.example.com`);
    }
    if (u.origin !== origin) throw new ConfigError('FLEETVISOR_GATEWAY_CORS_ORIGINS', `"${origin}" is not an origin (scheme://host[:port], no path), did you mean ${u.origin}?`);
    return origin;
  });
}

export function readGatewaySettings(env: Env = process.env): GatewaySettings {
  const r = envReader(env);
  return {
    listen: parseListen('FLEETVISOR_GATEWAY_LISTEN', r.string('FLEETVISOR_GATEWAY_LISTEN', '127.0.0.1:8080')),
    rateLimit: r.int('FLEETVISOR_GATEWAY_RATE_LIMIT', 1200, { min: 0, max: 10_000_000 }),
    rateWindowMs: r.duration('FLEETVISOR_GATEWAY_RATE_WINDOW', '1m'),
    corsOrigins: parseOrigins(r.optionalString('FLEETVISOR_GATEWAY_CORS_ORIGINS')),
    tokenCacheMs: r.duration('FLEETVISOR_GATEWAY_TOKEN_CACHE', '1s'),
    busTimeoutMs: r.duration('FLEETVISOR_GATEWAY_BUS_TIMEOUT', '10s'),
    gatherMs: r.duration('FLEETVISOR_GATEWAY_GATHER', '1500ms'),
    ssePollMs: r.duration('FLEETVISOR_GATEWAY_SSE_POLL', '50ms'),
    dashboardDir: r.optionalString('FLEETVISOR_GATEWAY_DASHBOARD_DIR'),
    poolSize: r.int('FLEETVISOR_GATEWAY_POOL_SIZE', 10, { min: 2, max: 100 }),
  };
}

export function readGatewayConfig(env: Env = process.env): GatewayConfig {
  return { core: readCoreConfig(env), trust: readTrustConfig(env), gateway: readGatewaySettings(env) };
}
