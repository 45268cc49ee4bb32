// Which versions a service must not run, and what that means at the two moments it matters
// (pure): when the runner starts (never start a quarantined version: back to the last good one)
// and when a VersionChanged arrives (a target the chain announces anew is tried again; the same
// target seen again, at a higher height or with other mins, is not). A quarantined version is
// never retried by a timer that touches the running service: only the chain announcing it anew,
// an operator's `upgrades retry`, or a healthy canary under `upgrade.retry: { policy: canary }`
// (canary-policy.ts, which never touches the running service either) lifts it.
import { compareStrictVersions, parseStrictVersion, type ProtocolVersion, type QuarantineStage, type ServiceRole } from '@fleetvisor/contracts';
import { roleVersions } from './version-select';

export interface QuarantineRecord {
  stage: QuarantineStage;
  reason: string;
  /** ISO time it was quarantined. */
  at: string;
}

/** Quarantined versions of one service, by version. */
export type ServiceQuarantine = Readonly<Record<string, QuarantineRecord>>;

export type StartDecision =
  | { kind: 'keep' }
  | { kind: 'switch'; version: string; reason: string }
  | { kind: 'stuck'; reason: string };

/**
 * What a service starts on. Its link, unless that version is quarantined: then the last version it
 * ran healthily, else the newest installed one below the quarantined version that is not
 * quarantined either. `stuck` when there is none (the service starts nothing better than its link).
 */
export function startVersion(o: { linked: string | undefined; quarantined: ServiceQuarantine; lastGood: string | undefined; installed: readonly string[] }): StartDecision {
  if (o.linked === undefined || !o.quarantined[o.linked]) return { kind: 'keep' };
  const why = `${o.linked} is quarantined (${o.quarantined[o.linked]!.stage}: ${o.quarantined[o.linked]!.reason})`;
  const usable = (v: string) => o.installed.includes(v) && !o.quarantined[v];
  if (o.lastGood && usable(o.lastGood)) return { kind: 'switch', version: o.lastGood, reason: `${why}; starting on ${o.lastGood}, the last version it ran healthily` };
  const linked = o.linked;
  const older = o.installed
    .filter((v) => parseStrictVersion(v) && usable(v) && (!parseStrictVersion(linked) || compareStrictVersions(v, linked) < 0))
    .sort((a, b) => compareStrictVersions(b, a));
  if (older[0]) return { kind: 'switch', version: older[0], reason: `${why}; starting on ${older[0]}, the newest installed version below it` };
  return { kind: 'stuck', reason: `${why} and no other installed version is usable` };
}

/**
 * The quarantined versions of a service that a new protocol version lifts: those that become its
 * role's target while the version known before named another target (or none). The same target
 * again lifts nothing: a replay or a min change is no new announcement.
 */
export function liftedByVersionChange(role: ServiceRole, before: ProtocolVersion | undefined, after: ProtocolVersion, quarantined: ServiceQuarantine): string[] {
  const next = roleVersions(role, after);
  if (!next || !quarantined[next.target]) return [];
  const prev = before ? roleVersions(role, before) : undefined;
  return prev?.target === next.target ? [] : [next.target];
}

/** A version may be tried (as a target or a fallback) for this service. */
export const tryable = (quarantined: ServiceQuarantine, version: string): boolean => !quarantined[version];
