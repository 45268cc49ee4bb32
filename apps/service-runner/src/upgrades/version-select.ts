// What a service should run for a protocol version (pure). Providers follow provider_target /
// provider_min, consumers consumer_target / consumer_min. A service below its target moves to the
// target; when the target cannot be had, to the highest installed version >= min that is newer
// than what it runs. Nothing changes for a service at or above its target.
import { compareStrictVersions, parseStrictVersion, type ProtocolVersion, type ServiceRole } from '@fleetvisor/contracts';

export type UpgradeDecision =
  | { kind: 'none'; reason: string }
  | { kind: 'upgrade'; target: string; min: string; reason: string };

export function roleVersions(role: ServiceRole, pv: ProtocolVersion): { target: string; min: string } | undefined {
  if (role === 'provider') return { target: pv.providerTarget, min: pv.providerMin };
  if (role === 'consumer') return { target: pv.consumerTarget, min: pv.consumerMin };
  return undefined;
}

export function decideUpgrade(role: ServiceRole, pv: ProtocolVersion, running: string | undefined): UpgradeDecision {
  const rv = roleVersions(role, pv);
  if (!rv) return { kind: 'none', reason: `${role} services do not follow the protocol version` };
  const r = role === 'provider' ? 'provider' : 'consumer';
  if (running === undefined || !parseStrictVersion(running)) {
    return { kind: 'upgrade', ...rv, reason: `running version ${running ?? 'unknown'} is not X.Y.Z; ${r}_target is ${rv.target}` };
  }
  if (compareStrictVersions(running, rv.target) >= 0) return { kind: 'none', reason: `running ${running} >= ${r}_target ${rv.target}` };
  const belowMin = compareStrictVersions(running, rv.min) < 0;
  return {
    kind: 'upgrade',
    ...rv,
    reason: belowMin ? `running ${running} < ${r}_min ${rv.min}` : `${r}_target ${rv.target} > running ${running}`,
  };
}

/** Fallback when the target cannot be had: highest installed version in [min, target) newer than running. */
export function fallbackVersion(installed: readonly string[], min: string, target: string, running: string | undefined): string | undefined {
  const ok = installed
    .filter((v) => parseStrictVersion(v))
    .filter((v) => compareStrictVersions(v, min) >= 0 && compareStrictVersions(v, target) < 0)
    .filter((v) => running === undefined || !parseStrictVersion(running) || compareStrictVersions(v, running) > 0)
    .sort((a, b) => compareStrictVersions(b, a));
  return ok[0];
}
