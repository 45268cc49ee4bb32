// The canary retry policy's decisions (pure; ADR 0008). Under `upgrade.retry: { policy: canary,
// every: 10m }` a service's quarantined *target* (the version its role's protocol target names,
// set aside after its upgrade failed) is proved again, at each interval, by a canary: the new
// binary started beside the running service on spare ports, with a config copy and a folder of its
// own. Only a healthy canary lifts the quarantine, and then the normal upgrade proceeds. What is
// never canaried: a version an operator rolled back from (operator_rollback: their decision stands),
// a quarantined version that is not the target any more (nothing would upgrade to it), a service
// with an upgrade under way.
import { parseDocument, isMap, isScalar, type Document } from 'yaml';
import type { ProtocolVersion, ServiceRole } from '@fleetvisor/contracts';
import type { QuarantineRecord, ServiceQuarantine } from './quarantine';
import { decideUpgrade } from './version-select';
import type { CanaryCheckRecord } from './upgrade-state';

export interface CanaryCandidate {
  service: string;
  version: string;
  /** ms since the epoch the check is due. */
  dueAt: number;
}

/**
 * When the next canary of a quarantined version runs: `every` after the last check, or after the
 * quarantine itself when it was never checked (the failed upgrade was the first check).
 */
export function nextCheckAt(q: Pick<QuarantineRecord, 'at'>, last: Pick<CanaryCheckRecord, 'at'> | undefined, everyMs: number): number {
  const from = Math.max(Date.parse(q.at) || 0, last ? Date.parse(last.at) || 0 : 0);
  return from + everyMs;
}

/** The quarantined target a canary would prove for one service, if any. */
export function canaryTarget(o: { role: ServiceRole; protocol: ProtocolVersion | undefined; linked: string | undefined; quarantined: ServiceQuarantine; upgrading: boolean }): string | undefined {
  if (!o.protocol || o.upgrading) return undefined;
  const d = decideUpgrade(o.role, o.protocol, o.linked);
  if (d.kind === 'none') return undefined;
  const q = o.quarantined[d.target];
  if (!q || q.stage === 'operator_rollback') return undefined;
  return d.target;
}

/** Every service's canary, with when it is due; soonest first. */
export function canaryCandidates(
  services: readonly { name: string; role: ServiceRole; linked: string | undefined; upgrading: boolean }[],
  o: { protocol: ProtocolVersion | undefined; quarantine: Readonly<Record<string, ServiceQuarantine>>; checks: Readonly<Record<string, Readonly<Record<string, CanaryCheckRecord>>>>; everyMs: number },
): CanaryCandidate[] {
  const out: CanaryCandidate[] = [];
  for (const s of services) {
    const quarantined = o.quarantine[s.name] ?? {};
    const version = canaryTarget({ role: s.role, protocol: o.protocol, linked: s.linked, quarantined, upgrading: s.upgrading });
    if (!version) continue;
    out.push({ service: s.name, version, dueAt: nextCheckAt(quarantined[version]!, o.checks[s.name]?.[version], o.everyMs) });
  }
  return out.sort((a, b) => a.dueAt - b.dueAt);
}

/** What a canary's config copy listens on, and what the copy says. */
export interface CanaryConfig {
  text: string;
  /** The spare address of the first endpoint (what the health probe asks). */
  networkAddress: string | undefined;
}

/**
 * The lavap config, every listening address moved to a spare port: each endpoint's
 * `network-address` (a host:port, or a mapping with `address:`) and the consumer's
 * `metrics-listen-address`. Everything else (chain ids, node URLs, TLS settings) is kept, so the
 * canary runs the very configuration the service would run. `port()` hands out the spare ports.
 */
export function canaryConfig(text: string, port: () => number): CanaryConfig {
  const doc: Document = parseDocument(text);
  let first: string | undefined;
  const moved = (addr: unknown): string => {
    const a = typeof addr === 'string' ? addr : '';
    const i = a.lastIndexOf(':');
    // A wildcard listener becomes loopback: the canary is probed locally and must not be reachable from outside.
    const host = i > 0 ? a.slice(0, i) : '';
    const local = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]' ? '127.0.0.1' : host;
    return `${local}:${port()}`;
  };
  const endpoints = doc.get('endpoints');
  if (endpoints && typeof endpoints === 'object' && 'items' in endpoints) {
    for (const ep of (endpoints as { items: unknown[] }).items) {
      if (!isMap(ep)) continue;
      const na: unknown = ep.get('network-address', true);
      if (isScalar(na)) {
        const to = moved(na.value);
        ep.set('network-address', to);
        first ??= to;
      } else if (isMap(na)) {
        const to = moved(na.get('address'));
        na.set('address', to);
        first ??= to;
      }
    }
  }
  if (doc.has('metrics-listen-address')) doc.set('metrics-listen-address', moved(doc.get('metrics-listen-address')));
  return { text: doc.toString(), networkAddress: first };
}

/** lavap flags that open a listener besides the config's endpoints (moved to spare ports too). */
export const LISTEN_FLAGS = ['--metrics-listen-address', '--pprof-address'] as const;

/**
 * The service's arguments with its config file replaced by the canary's copy and every listener
 * flag (`--metrics-listen-address X`, `--pprof-address=X`) moved to a spare port; nothing else
 * changed (same --from, keyring backend, chain id, node).
 */
export function canaryArgs(args: readonly string[], configPath: string, canaryConfigPath: string, port: () => number): string[] {
  const out: string[] = [];
  const spare = (v: string): string => {
    const i = v.lastIndexOf(':');
    const host = i > 0 ? v.slice(0, i) : '';
    return `${host === '' || host === '0.0.0.0' ? '127.0.0.1' : host}:${port()}`;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === configPath) out.push(canaryConfigPath);
    else if ((LISTEN_FLAGS as readonly string[]).includes(a) && i + 1 < args.length) out.push(a, spare(args[++i]!));
    else {
      const eq = a.indexOf('=');
      const flag = eq > 0 ? a.slice(0, eq) : '';
      out.push((LISTEN_FLAGS as readonly string[]).includes(flag) ? `${flag}=${spare(a.slice(eq + 1))}` : a);
    }
  }
  return out;
}
