// The worker-registry's settings, read once from the environment and validated (the only file of
// this app that reads process.env).
import { ConfigError, envReader, readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';
import { readTrustConfig, type TrustConfig } from '@fleetvisor/trust';

export interface WorkerRegistrySettings {
  /** A worker silent for longer is marked expired (WorkerExpired) and shown with LastPing `!`. */
  expirationMs: number;
  /** How often silent workers are looked for. */
  expiryCheckIntervalMs: number;
  /** How often last-seen times of reports are written to fv_proj_workers (heartbeats are not events). */
  lastSeenFlushIntervalMs: number;
  /** How long a proxied pause/resume/drain waits for the worker's agent. */
  agentTimeoutMs: number;
  /** Postgres connections (appends of many workers run side by side). */
  poolSize: number;
  /** How often a stats line (workers, reports, memory) is logged; 0 = never. */
  statsLogIntervalMs: number;
  /**
   * V8 heap growth per full collection of `worker-registry run`, in percent (V8's own default grows
   * by several times; reports are short-lived garbage, so a small step keeps RSS close to the live heap).
   */
  heapGrowingPercent: number;
  /**
   * Parse and check reports on a worker thread, which also spots reports that repeat the worker's
   * last one (report-screen.ts); false (default): on the event loop. Off by default: where Postgres
   * and NATS share the registry's cores, the thread adds RSS without lowering p99 (docs/benchmarks.md,
   * "Worker registry"); it is for a registry with cores of its own.
   */
  reportScreenThread: boolean;
  /** A runner host without a heartbeat for longer is marked expired (HostExpired, `hosts list` SILENT). */
  hostExpirationMs: number;
}

export interface WorkerRegistryConfig {
  core: CoreConfig;
  registry: WorkerRegistrySettings;
  /** The fleet's trust roots (verifies operators' commands) and the registry's `service` key (signs what it passes on to agents). */
  trust: TrustConfig;
}

export const WORKER_REGISTRY_DEFAULTS: WorkerRegistrySettings = {
  expirationMs: 10 * 60_000,
  expiryCheckIntervalMs: 15_000,
  lastSeenFlushIntervalMs: 5_000,
  agentTimeoutMs: 5_000,
  poolSize: 16,
  statsLogIntervalMs: 60_000,
  heapGrowingPercent: 20,
  reportScreenThread: false,
  hostExpirationMs: 2 * 60_000,
};

export function readWorkerRegistrySettings(env: Env = process.env): WorkerRegistrySettings {
  const r = envReader(env);
  const positive = (name: string, def: string, min = 1): number => {
    const ms = r.duration(name, def);
    if (ms < min) throw new ConfigError(name, `must be at least ${min} ms, got ${ms} ms`);
    return ms;
  };
  const expirationMs = positive('FLEETVISOR_WORKER_EXPIRATION', '10m', 1_000);
  return {
    expirationMs,
    expiryCheckIntervalMs: positive('FLEETVISOR_WORKER_EXPIRY_CHECK_INTERVAL', `${Math.min(15_000, Math.max(100, Math.floor(expirationMs / 4)))}ms`, 50),
    lastSeenFlushIntervalMs: positive('FLEETVISOR_WORKER_LAST_SEEN_FLUSH_INTERVAL', '5s', 50),
    agentTimeoutMs: positive('FLEETVISOR_WORKER_AGENT_TIMEOUT', '5s', 100),
    poolSize: r.int('FLEETVISOR_WORKER_REGISTRY_POOL_SIZE', WORKER_REGISTRY_DEFAULTS.poolSize, { min: 2, max: 200 }),
    statsLogIntervalMs: r.duration('FLEETVISOR_WORKER_REGISTRY_STATS_INTERVAL', '60s'),
    heapGrowingPercent: r.int('FLEETVISOR_WORKER_REGISTRY_HEAP_GROWTH', WORKER_REGISTRY_DEFAULTS.heapGrowingPercent, { min: 5, max: 400 }),
    reportScreenThread: r.bool('FLEETVISOR_WORKER_REGISTRY_SCREEN_THREAD', WORKER_REGISTRY_DEFAULTS.reportScreenThread),
    hostExpirationMs: positive('FLEETVISOR_HOST_EXPIRATION', '2m', 1_000),
  };
}

export function readWorkerRegistryConfig(env: Env = process.env): WorkerRegistryConfig {
  return { core: readCoreConfig(env), registry: readWorkerRegistrySettings(env), trust: readTrustConfig(env) };
}
