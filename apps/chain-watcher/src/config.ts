// The chain-watcher's configuration, read once from the environment and validated; errors name
// the variable. Chains and their endpoints come from one variable:
//   FLEETVISOR_CHAINS='lava-testnet-2=http://a:26657,http://b:26657;lava-mainnet-1=https://c'
// (chains separated by ';', endpoints in failover order separated by ',').
import { CHAIN_ID_PATTERN } from '@fleetvisor/contracts';
import { ConfigError, envReader, readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';
import { readTrustConfig, type Signer } from '@fleetvisor/trust';
import { loadFilecoinWatchConfig, type FilecoinWatchConfig } from './proving/proving-config';
import { chainWatcherSigner } from './recording/event-signing';
import { parseRolloutPolicies, ROLLOUT_VARIABLE, type RolloutPolicies } from './rollout/rollout-policy';

export interface WatchedChain {
  chainId: string;
  /** CometBFT RPC roots (http/https), preferred first. */
  endpoints: string[];
}

export interface ChainWatcherConfig {
  core: CoreConfig;
  chains: WatchedChain[];
  pollIntervalMs: number;
  safetyNetBlocks: number;
  rpcTimeoutMs: number;
  wsRetryMaxMs: number;
  wsStallMs: number;
  preferredProbeMs: number;
  maxGapScan: number;
  backfillRps: number;
  leaderRetryMs: number;
  leaderHealthCheckMs: number;
  httpHost: string;
  /** 0 = any free port (logged at start). */
  httpPort: number;
  /** Run the outbox relay here too (leader-elected: harmless next to `fleetvisor up`). */
  relay: boolean;
  /** Signs every VersionChanged and UpgradePlanned (FLEETVISOR_SIGNING_KEY_FILE, role chain-watcher). */
  signer: Signer;
  /**
   * The fleet's trust roots (FLEETVISOR_TRUST_ROOT[_FILE]): verify operators' `rollout resume` /
   * `abort`. Without them every signed command is refused (unauthorized), nothing else changes.
   */
  trustRoots: string[];
  /** Rollout policy of each chain (FLEETVISOR_ROLLOUT, ADR 0009). */
  rollout: RolloutPolicies;
  /** How often a chain's leader checks its rollout's hosts and clock. */
  rolloutTickMs: number;
  /** The Filecoin proving watch (FLEETVISOR_FILECOIN_CHAINS / _MINERS); absent when not configured. */
  filecoin?: FilecoinWatchConfig;
}

export const CHAINS_VARIABLE = 'FLEETVISOR_CHAINS';

/** Parses FLEETVISOR_CHAINS; throws ConfigError naming the variable and the faulty part. */
export function parseChains(text: string | undefined, variable = CHAINS_VARIABLE): WatchedChain[] {
  if (!text || text.trim() === '') {
    throw new ConfigError(variable, "required: chains to watch, e.g. 'lava-testnet-2=http://127.0.0.1:26657,http://backup:26657;other-chain=https://rpc.example.org'");
  }
  const chainId = new RegExp(CHAIN_ID_PATTERN);
  const chains: WatchedChain[] = [];
  for (const part of text.split(';').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new ConfigError(variable, `"${part.slice(0, 60)}" must be <chain-id>=<endpoint>[,<endpoint>...]`);
    const id = part.slice(0, eq).trim();
    if (!chainId.test(id)) throw new ConfigError(variable, `invalid chain id "${id.slice(0, 60)}" (letters, digits, . _ -; at most 50)`);
    if (chains.some((c) => c.chainId === id)) throw new ConfigError(variable, `chain ${id} is listed twice`);
    const endpoints = part
      .slice(eq + 1)
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    if (endpoints.length === 0) throw new ConfigError(variable, `chain ${id} has no endpoint`);
    for (const e of endpoints) {
      let u: URL;
      try {
        u = new URL(e);
      } catch {
        throw new ConfigError(variable, `chain ${id}: "${e.replace(/\/\/[^@/]*@/, '//***@').slice(0, 80)}" is not a URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') {
        throw new ConfigError(variable, `chain ${id}: endpoint ${u.protocol}//${u.host} must be http:// or https:// (the WebSocket is derived: ws://host:port/websocket)`);
      }
      if (u.search || u.hash) throw new ConfigError(variable, `chain ${id}: endpoint ${u.protocol}//${u.host}${u.pathname} must have no query or fragment`);
    }
    if (new Set(endpoints).size !== endpoints.length) throw new ConfigError(variable, `chain ${id} lists an endpoint twice`);
    chains.push({ chainId: id, endpoints });
  }
  if (chains.length === 0) throw new ConfigError(variable, 'no chain given');
  return chains;
}

export function loadChainWatcherConfig(env: Env = process.env): ChainWatcherConfig {
  const r = envReader(env);
  const positive = (name: string, def: string): number => {
    const ms = r.duration(name, def);
    if (ms <= 0) throw new ConfigError(name, `must be above 0, got "${env[name] ?? def}"`);
    return ms;
  };
  const filecoin = loadFilecoinWatchConfig(env);
  return {
    core: readCoreConfig(env),
    // A replica may watch only Filecoin chains: then FLEETVISOR_CHAINS may be left out.
    chains: filecoin && !env[CHAINS_VARIABLE]?.trim() ? [] : parseChains(env[CHAINS_VARIABLE]),
    pollIntervalMs: positive('FLEETVISOR_CHAIN_WATCHER_POLL_INTERVAL', '1s'),
    safetyNetBlocks: r.int('FLEETVISOR_CHAIN_WATCHER_SAFETY_NET_BLOCKS', 10, { min: 1, max: 100_000 }),
    rpcTimeoutMs: positive('FLEETVISOR_CHAIN_WATCHER_RPC_TIMEOUT', '5s'),
    wsRetryMaxMs: positive('FLEETVISOR_CHAIN_WATCHER_WS_RETRY_MAX', '5s'),
    wsStallMs: positive('FLEETVISOR_CHAIN_WATCHER_WS_STALL', '60s'),
    preferredProbeMs: positive('FLEETVISOR_CHAIN_WATCHER_PREFERRED_PROBE', '10s'),
    maxGapScan: r.int('FLEETVISOR_CHAIN_WATCHER_MAX_GAP_SCAN', 5_000, { min: 1, max: 1_000_000 }),
    backfillRps: r.int('FLEETVISOR_CHAIN_WATCHER_BACKFILL_RPS', 50, { min: 1, max: 10_000 }),
    leaderRetryMs: positive('FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY', '1s'),
    leaderHealthCheckMs: positive('FLEETVISOR_CHAIN_WATCHER_LEADER_HEALTH_CHECK', '5s'),
    httpHost: r.string('FLEETVISOR_CHAIN_WATCHER_HTTP_HOST', '0.0.0.0'),
    httpPort: r.int('FLEETVISOR_CHAIN_WATCHER_HTTP_PORT', 9471, { min: 0, max: 65_535 }),
    relay: r.bool('FLEETVISOR_CHAIN_WATCHER_RELAY', true),
    signer: chainWatcherSigner(env),
    trustRoots: readTrustConfig(env).roots,
    rollout: parseRolloutPolicies(env[ROLLOUT_VARIABLE]),
    rolloutTickMs: positive('FLEETVISOR_ROLLOUT_TICK', '1s'),
    ...(filecoin ? { filecoin } : {}),
  };
}
