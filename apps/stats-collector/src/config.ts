// The stats-collector's settings, read once from the environment and validated (the only file of
// this app that reads process.env).
import { ConfigError, envReader, readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';

export interface ScrapeTarget {
  /** Names the source (scrape-<name>) and, unless `service` is given or the metrics say otherwise, the component. */
  name: string;
  url: string;
  /** What its counts are for (a discovered lavap service's name: the component of a provider, the caller of a consumer). */
  service?: string;
  /** Configured (FLEETVISOR_STATS_SCRAPE_TARGETS) or found by asking the runners. */
  origin?: 'static' | 'discovered';
}

export interface StatsCollectorSettings {
  /** Shortest flush window a pushed batch may have, in seconds (a divisor of 60). */
  minWindowSeconds: number;
  /** Per-minute rollups older than this become 10-minute rollups. */
  minuteAgeMs: number;
  /** 10-minute rollups older than this become hourly rollups. */
  tenMinuteAgeMs: number;
  /** Rollups older than this are deleted (and batches older than this refused). */
  retentionMs: number;
  /** How often compaction runs. */
  compactIntervalMs: number;
  /** host:port of the Prometheus /metrics export; undefined: none. */
  metricsListen: string | undefined;
  /** Prometheus endpoints scraped into the counts. */
  scrapeTargets: ScrapeTarget[];
  /** How often the runners are asked for their services' metrics addresses; 0 = never (static targets only). */
  discoveryIntervalMs: number;
  /** How long the answers of one discovery round are gathered. */
  discoveryWaitMs: number;
  /** Scrape interval, seconds (a divisor of 60, at least minWindowSeconds). */
  scrapeSeconds: number;
  /** Steady band: trailing history a caller's band is learned from. */
  bandHistoryMs: number;
  /** Steady band: how long a rate must stay outside its band before CallRateAnomaly. */
  anomalyAfterMs: number;
  /** Steady band: ignored at the start of a caller's data and at the newest end. */
  anomalyEdgeMs: number;
  /** Steady band: how often callers are checked; 0 = never. */
  anomalyIntervalMs: number;
  /** Methods watched by the steady band (a regular expression on the method name). */
  anomalyMethods: RegExp;
  poolSize: number;
}

export interface StatsCollectorConfig {
  core: CoreConfig;
  stats: StatsCollectorSettings;
}

/** Message-sending calls of a sealing miner (MpoolPush, MpoolPushMessage, venus-messager's PushMessage, …). */
export const DEFAULT_ANOMALY_METHODS = '(^|\\.)(MpoolPush[A-Za-z]*|PushMessage[A-Za-z]*|MpoolBatchPush[A-Za-z]*)$';

function parseTargets(name: string, v: string | undefined): ScrapeTarget[] {
  if (!v) return [];
  return v.split(',').map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(name, `expected name=url[,name=url…], got "${part}"`);
    const target = { name: part.slice(0, eq).trim(), url: part.slice(eq + 1).trim() };
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/.test(target.name)) throw new ConfigError(name, `target name "${target.name}" may hold letters, digits, . _ - only`);
    let u: URL;
    try {
      u = new URL(target.url);
    } catch {
      throw new ConfigError(name, `"${target.url}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(name, `"${target.url}" is not http(s)`);
    return { ...target, origin: 'static' as const };
  });
}

export function readStatsCollectorSettings(env: Env = process.env): StatsCollectorSettings {
  const r = envReader(env);
  const minWindowSeconds = r.int('FLEETVISOR_STATS_MIN_WINDOW_SECONDS', 10, { min: 1, max: 60 });
  if (60 % minWindowSeconds !== 0) throw new ConfigError('FLEETVISOR_STATS_MIN_WINDOW_SECONDS', `must divide 60, got ${minWindowSeconds}`);
  const minuteAgeMs = r.duration('FLEETVISOR_STATS_MINUTE_AGE', '48h');
  const tenMinuteAgeMs = r.duration('FLEETVISOR_STATS_TEN_MINUTE_AGE', '14d');
  const retentionMs = r.duration('FLEETVISOR_STATS_RETENTION', '400d');
  if (!(minuteAgeMs >= 3_600_000 && tenMinuteAgeMs >= minuteAgeMs && retentionMs >= tenMinuteAgeMs)) {
    throw new ConfigError('FLEETVISOR_STATS_MINUTE_AGE', `need 1h <= minute age (${minuteAgeMs} ms) <= ten-minute age (${tenMinuteAgeMs} ms) <= retention (${retentionMs} ms)`);
  }
  const scrapeSeconds = r.int('FLEETVISOR_STATS_SCRAPE_SECONDS', 15, { min: minWindowSeconds, max: 60 });
  if (60 % scrapeSeconds !== 0) throw new ConfigError('FLEETVISOR_STATS_SCRAPE_SECONDS', `must divide 60, got ${scrapeSeconds}`);
  let anomalyMethods: RegExp;
  const methods = r.string('FLEETVISOR_STATS_ANOMALY_METHODS', DEFAULT_ANOMALY_METHODS);
  try {
    anomalyMethods = new RegExp(methods);
  } catch (e) {
    throw new ConfigError('FLEETVISOR_STATS_ANOMALY_METHODS', `not a regular expression: ${(e as Error).message}`);
  }
  return {
    minWindowSeconds,
    minuteAgeMs,
    tenMinuteAgeMs,
    retentionMs,
    compactIntervalMs: r.duration('FLEETVISOR_STATS_COMPACT_INTERVAL', '5m'),
    metricsListen: r.optionalString('FLEETVISOR_STATS_METRICS_LISTEN'),
    scrapeTargets: parseTargets('FLEETVISOR_STATS_SCRAPE_TARGETS', r.optionalString('FLEETVISOR_STATS_SCRAPE_TARGETS')),
    scrapeSeconds,
    discoveryIntervalMs: r.duration('FLEETVISOR_STATS_DISCOVERY_INTERVAL', '1m'),
    discoveryWaitMs: r.duration('FLEETVISOR_STATS_DISCOVERY_WAIT', '2s'),
    bandHistoryMs: r.duration('FLEETVISOR_STATS_BAND_HISTORY', '24h'),
    anomalyAfterMs: r.duration('FLEETVISOR_STATS_ANOMALY_AFTER', '10m'),
    anomalyEdgeMs: r.duration('FLEETVISOR_STATS_ANOMALY_EDGE', '30m'),
    anomalyIntervalMs: r.duration('FLEETVISOR_STATS_ANOMALY_INTERVAL', '1m'),
    anomalyMethods,
    poolSize: r.int('FLEETVISOR_STATS_POOL_SIZE', 8, { min: 2, max: 100 }),
  };
}

export function readStatsCollectorConfig(env: Env = process.env): StatsCollectorConfig {
  return { core: readCoreConfig(env), stats: readStatsCollectorSettings(env) };
}
