// The worker-agent's configuration, read once from the environment and validated; every error
// names the variable. The agent needs NATS only: it reports to the registry over the bus and holds
// no database credentials (ADR 0006), so FLEETVISOR_DATABASE_* is never read (readBusConfig).
import { hostname as osHostname } from 'node:os';
import path from 'node:path';
import { MAX_AGENT_STORES, WORKER_NAME_PATTERN } from '@fleetvisor/contracts';
import { ConfigError, envReader, readBusConfig, type BusConfig, type Env } from '@fleetvisor/platform';
import { DEFAULT_SIMULATED_PLANS, isSimulatedPlan, type SimulatedPlan } from '@fleetvisor/devnet';
import { readTrustConfig, type TrustConfig } from '@fleetvisor/trust';
import { damoclesStores } from './proving/damocles-stores';

export const WORKER_AGENT_SOURCES = ['simulated', 'bridge'] as const;
export type WorkerAgentSource = (typeof WORKER_AGENT_SOURCES)[number];

export interface SimulatedSourceConfig {
  threads: number;
  stepMs: number;
  jitter: number;
  temporaryErrorRate: number;
  permanentErrorRate: number;
  seed: number | undefined;
  plans: readonly SimulatedPlan[];
  /** host:port to serve the simulator's VenusWorker JSON-RPC on (so a bridge agent or a tool can talk to it). */
  adminListen: { host: string; port: number } | undefined;
}

export interface WorkerAgentConfig {
  core: Pick<BusConfig, 'natsUrl' | 'nats' | 'subjectRoot' | 'logLevel' | 'logFormat' | 'host' | 'eventStreamName' | 'eventStreamMaxAgeMs' | 'healthListen'>;
  /** Worker instance name: the agent serves fleet.cmd.worker-agent.<name>.<verb>. */
  name: string;
  /** The fleet's trust roots: pause/resume/drain are carried out only when signed by an operator or a central service (ADR 0006). */
  trust: TrustConfig;
  /** Address the worker admin API answers on, as reported to the registry. */
  dest: string;
  source: WorkerAgentSource;
  /** Bridge mode: the damocles-worker admin JSON-RPC endpoint. */
  adminUrl: string;
  reportIntervalMs: number;
  reportTimeoutMs: number;
  bridgePollMs: number;
  /** Transitions kept while the registry or NATS is unreachable; the oldest are dropped beyond. */
  maxPendingTransitions: number;
  sim: SimulatedSourceConfig;
  /** Where `proving check` looks for sectors (FLEETVISOR_WORKER_STORES, then the damocles-worker config's stores). */
  stores: SectorStoreConfig[];
  /** Longest one sector's file check may take before it is reported as not answering. */
  sectorCheckTimeoutMs: number;
}

export interface SectorStoreConfig {
  location: string;
  /** Where it was configured: the variable, or damocles' store name. */
  from: string;
}

const DEFAULT_ADMIN_URL = 'http://127.0.0.1:17890/';
const DEST_PATTERN = /^[^\s@]{1,512}$/;

function fraction(env: Env, name: string, def: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(n >= 0 && n <= 1)) throw new ConfigError(name, `expected a number from 0 to 1, got "${raw}"`);
  return n;
}

function hostPort(name: string, raw: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !m[1] || port > 65_535) throw new ConfigError(name, `expected host:port, got "${raw}"`);
  return { host: m[1], port };
}

/**
 * The sector stores: FLEETVISOR_WORKER_STORES (absolute directories, comma separated), then those of
 * the damocles-worker configuration FLEETVISOR_WORKER_DAMOCLES_CONFIG names ([[attached]],
 * scan_persist_stores), each location once.
 */
function readStores(env: Env): SectorStoreConfig[] {
  const out: SectorStoreConfig[] = [];
  const raw = env['FLEETVISOR_WORKER_STORES']?.trim();
  if (raw) {
    for (const item of raw.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
      if (!path.isAbsolute(item)) throw new ConfigError('FLEETVISOR_WORKER_STORES', `"${item}" is not an absolute directory`);
      out.push({ location: path.resolve(item), from: 'FLEETVISOR_WORKER_STORES' });
    }
  }
  const damocles = env['FLEETVISOR_WORKER_DAMOCLES_CONFIG']?.trim();
  if (damocles) {
    try {
      for (const s of damoclesStores(damocles)) out.push({ location: s.location, from: `damocles store ${s.name}` });
    } catch (e) {
      throw new ConfigError('FLEETVISOR_WORKER_DAMOCLES_CONFIG', `cannot read the stores of ${damocles}: ${(e as Error).message}`);
    }
  }
  for (const s of out) if (s.location.length > 1024) throw new ConfigError(s.from.startsWith('FLEETVISOR') ? 'FLEETVISOR_WORKER_STORES' : 'FLEETVISOR_WORKER_DAMOCLES_CONFIG', `store location longer than 1024 characters: ${s.location.slice(0, 60)}...`);
  const unique = out.filter((s, i) => out.findIndex((x) => x.location === s.location) === i);
  if (unique.length > MAX_AGENT_STORES) throw new ConfigError('FLEETVISOR_WORKER_STORES', `${unique.length} sector stores; at most ${MAX_AGENT_STORES}`);
  return unique;
}

export function loadWorkerAgentConfig(env: Env = process.env, hostname: () => string = osHostname): WorkerAgentConfig {
  const core = readBusConfig(env, hostname);
  const r = envReader(env);
  const name = r.string('FLEETVISOR_WORKER_NAME', hostname());
  if (!new RegExp(WORKER_NAME_PATTERN).test(name)) {
    throw new ConfigError('FLEETVISOR_WORKER_NAME', `"${name}" is not a valid worker name (letters, digits, . _ : @ -, up to 100, starting with a letter or digit)`);
  }
  const source = r.oneOf('FLEETVISOR_WORKER_SOURCE', WORKER_AGENT_SOURCES, 'simulated');
  const adminUrl = r.url('FLEETVISOR_WORKER_ADMIN_URL', DEFAULT_ADMIN_URL, ['http', 'https']);
  const listenRaw = r.optionalString('FLEETVISOR_WORKER_SIM_ADMIN_LISTEN');
  const adminListen = listenRaw === undefined ? undefined : hostPort('FLEETVISOR_WORKER_SIM_ADMIN_LISTEN', listenRaw);
  const defaultDest = source === 'bridge' ? new URL(adminUrl).host : adminListen ? `${adminListen.host}:${adminListen.port}` : `${hostname()}:17890`;
  const dest = r.string('FLEETVISOR_WORKER_DEST', defaultDest);
  if (!DEST_PATTERN.test(dest)) throw new ConfigError('FLEETVISOR_WORKER_DEST', `expected an address without spaces or @, got "${dest}"`);
  const plansRaw = r.string('FLEETVISOR_WORKER_SIM_PLANS', DEFAULT_SIMULATED_PLANS.join(','));
  const plans = plansRaw.split(',').map((p) => p.trim());
  for (const p of plans) if (!isSimulatedPlan(p)) throw new ConfigError('FLEETVISOR_WORKER_SIM_PLANS', `"${p}" is not a simulated plan (sealer, snapup, unseal)`);
  const reportIntervalMs = r.duration('FLEETVISOR_WORKER_REPORT_INTERVAL', '10s');
  if (reportIntervalMs < 100) throw new ConfigError('FLEETVISOR_WORKER_REPORT_INTERVAL', `must be at least 100ms, got ${reportIntervalMs}ms`);
  const stepMs = r.duration('FLEETVISOR_WORKER_SIM_STEP', '5s');
  if (stepMs < 1) throw new ConfigError('FLEETVISOR_WORKER_SIM_STEP', 'must be at least 1ms');
  const bridgePollMs = r.duration('FLEETVISOR_WORKER_BRIDGE_POLL', '1s');
  if (bridgePollMs < 50) throw new ConfigError('FLEETVISOR_WORKER_BRIDGE_POLL', 'must be at least 50ms');
  const temporaryErrorRate = fraction(env, 'FLEETVISOR_WORKER_SIM_TEMPORARY_ERROR_RATE', 0.02);
  const permanentErrorRate = fraction(env, 'FLEETVISOR_WORKER_SIM_PERMANENT_ERROR_RATE', 0.002);
  if (temporaryErrorRate + permanentErrorRate > 1) throw new ConfigError('FLEETVISOR_WORKER_SIM_PERMANENT_ERROR_RATE', 'the two error rates add up to more than 1');
  const seedRaw = r.optionalString('FLEETVISOR_WORKER_SIM_SEED');
  return {
    core: {
      natsUrl: core.natsUrl,
      nats: core.nats,
      subjectRoot: core.subjectRoot,
      logLevel: core.logLevel,
      logFormat: core.logFormat,
      host: core.host,
      eventStreamName: core.eventStreamName,
      eventStreamMaxAgeMs: core.eventStreamMaxAgeMs,
      ...(core.healthListen !== undefined ? { healthListen: core.healthListen } : {}),
    },
    name,
    trust: readTrustConfig(env),
    dest,
    source,
    adminUrl,
    reportIntervalMs,
    reportTimeoutMs: r.duration('FLEETVISOR_WORKER_REPORT_TIMEOUT', '5s'),
    bridgePollMs,
    maxPendingTransitions: r.int('FLEETVISOR_WORKER_MAX_PENDING', 50_000, { min: 100, max: 10_000_000 }),
    sim: {
      threads: r.int('FLEETVISOR_WORKER_SIM_THREADS', 8, { min: 1, max: 65_536 }),
      stepMs,
      jitter: fraction(env, 'FLEETVISOR_WORKER_SIM_JITTER', 0.2),
      temporaryErrorRate,
      permanentErrorRate,
      seed: seedRaw === undefined ? undefined : r.int('FLEETVISOR_WORKER_SIM_SEED', 0, { min: 0, max: 4_294_967_295 }),
      plans: plans as SimulatedPlan[],
      adminListen,
    },
    stores: readStores(env),
    sectorCheckTimeoutMs: r.duration('FLEETVISOR_WORKER_SECTOR_CHECK_TIMEOUT', '10s'),
  };
}
