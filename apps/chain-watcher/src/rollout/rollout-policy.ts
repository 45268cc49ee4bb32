// Rollout policies per chain, from one variable (read once by config.ts):
//   FLEETVISOR_ROLLOUT='lava-testnet-2:canary=1,max_parallel=2,min_healthy_time=5m,healthy_deadline=10m;*:max_parallel=5'
// `*` is the default of every chain not named. Keys: canary (a count, or host names joined by '+'),
// max_parallel (a count, or `all`), min_healthy_time, healthy_deadline (durations), auto_revert
// (true/false; recorded only, ADR 0009). Unset keys take DEFAULT_ROLLOUT_POLICY's values, which
// keep today's behaviour: every host that asks is admitted at once (one wave of all), and a
// failure only halts what has not been admitted (nothing, then) — so turning coordination on in
// the runners changes nothing until a policy says otherwise.
import { CHAIN_ID_PATTERN, HOST_NAME_PATTERN, type RolloutPolicy } from '@fleetvisor/contracts';
import { ConfigError, parseDuration } from '@fleetvisor/platform';

export const ROLLOUT_VARIABLE = 'FLEETVISOR_ROLLOUT';

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = Object.freeze({
  canary: 0,
  canaryHosts: [],
  maxParallel: 0,
  minHealthyMs: 0,
  healthyDeadlineMs: 10 * 60_000,
  autoRevert: false,
}) as RolloutPolicy;

export interface RolloutPolicies {
  /** The policy of a chain: its own, else `*`, else the defaults. */
  of(chainId: string): RolloutPolicy;
}

function count(variable: string, chain: string, key: string, v: string): number {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(v)) throw new ConfigError(variable, `${chain}: ${key} must be a whole number 0..99999, got "${v.slice(0, 40)}"`);
  return Number(v);
}

function duration(variable: string, chain: string, key: string, v: string): number {
  const ms = parseDuration(v);
  if (ms === undefined || ms < 0) throw new ConfigError(variable, `${chain}: ${key} must be a duration like 30s or 5m, got "${v.slice(0, 40)}"`);
  return ms;
}

/** Parses FLEETVISOR_ROLLOUT; throws ConfigError naming the variable and the faulty part. */
export function parseRolloutPolicies(text: string | undefined, variable = ROLLOUT_VARIABLE): RolloutPolicies {
  const byChain = new Map<string, RolloutPolicy>();
  const chainId = new RegExp(CHAIN_ID_PATTERN);
  const hostName = new RegExp(HOST_NAME_PATTERN);
  for (const part of (text ?? '').split(';').map((p) => p.trim()).filter((p) => p !== '')) {
    const colon = part.indexOf(':');
    if (colon < 0) throw new ConfigError(variable, `"${part.slice(0, 60)}" must be <chain-id|*>:<key>=<value>[,<key>=<value>...]`);
    const chain = part.slice(0, colon).trim();
    if (chain !== '*' && !chainId.test(chain)) throw new ConfigError(variable, `invalid chain id "${chain.slice(0, 60)}"`);
    if (byChain.has(chain)) throw new ConfigError(variable, `${chain} is listed twice`);
    const policy: RolloutPolicy = { ...DEFAULT_ROLLOUT_POLICY, canaryHosts: [] };
    for (const kv of part.slice(colon + 1).split(',').map((p) => p.trim()).filter((p) => p !== '')) {
      const eq = kv.indexOf('=');
      if (eq < 0) throw new ConfigError(variable, `${chain}: "${kv.slice(0, 60)}" must be <key>=<value>`);
      const key = kv.slice(0, eq).trim();
      const value = kv.slice(eq + 1).trim();
      switch (key) {
        case 'canary':
          if (/^[0-9]+$/.test(value)) policy.canary = count(variable, chain, key, value);
          else {
            const hosts = value.split('+').map((h) => h.trim());
            const bad = hosts.find((h) => !hostName.test(h));
            if (bad !== undefined) throw new ConfigError(variable, `${chain}: canary "${bad.slice(0, 60)}" is neither a count nor a host name (hosts are joined by '+')`);
            policy.canaryHosts = [...new Set(hosts)];
            policy.canary = policy.canaryHosts.length;
          }
          break;
        case 'max_parallel':
          policy.maxParallel = value === 'all' ? 0 : count(variable, chain, key, value);
          if (value !== 'all' && policy.maxParallel === 0) throw new ConfigError(variable, `${chain}: max_parallel must be at least 1, or all`);
          break;
        case 'min_healthy_time':
          policy.minHealthyMs = duration(variable, chain, key, value);
          break;
        case 'healthy_deadline':
          policy.healthyDeadlineMs = duration(variable, chain, key, value);
          break;
        case 'auto_revert':
          if (value !== 'true' && value !== 'false') throw new ConfigError(variable, `${chain}: auto_revert must be true or false`);
          policy.autoRevert = value === 'true';
          break;
        default:
          throw new ConfigError(variable, `${chain}: unknown key "${key.slice(0, 40)}" (canary, max_parallel, min_healthy_time, healthy_deadline, auto_revert)`);
      }
    }
    byChain.set(chain, policy);
  }
  return {
    of: (id) => byChain.get(id) ?? byChain.get('*') ?? { ...DEFAULT_ROLLOUT_POLICY, canaryHosts: [] },
  };
}
