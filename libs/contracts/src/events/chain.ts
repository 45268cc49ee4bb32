// Chain facts, from the one chain watch of the whole fleet. Stream: chain-<chainId>.
// The Lava protocol version is `lavanet.lava.protocol.Version{provider_target, provider_min,
// consumer_target, consumer_min}`; the chain accepts only strict X.Y.Z with min <= target.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import semverCompare from 'semver/functions/compare';
import { defineEvent } from '../define-event';
import { ChainId, Reason, STRICT_VERSION_PATTERN, StrictVersion, StringEnum } from '../fields';

export const ProtocolVersionSchema = Type.Object(
  {
    providerTarget: StrictVersion({ description: 'provider_target: the version providers should run' }),
    providerMin: StrictVersion({ description: 'provider_min: the oldest version providers may run' }),
    consumerTarget: StrictVersion({ description: 'consumer_target: the version consumers should run' }),
    consumerMin: StrictVersion({ description: 'consumer_min: the oldest version consumers may run' }),
  },
  { additionalProperties: false, description: 'Lava protocol version (lavanet.lava.protocol.Version)' },
);
export type ProtocolVersion = Static<typeof ProtocolVersionSchema>;
export type ProtocolVersionField = keyof ProtocolVersion;
export const PROTOCOL_VERSION_FIELDS: readonly ProtocolVersionField[] = ['providerTarget', 'providerMin', 'consumerTarget', 'consumerMin'];

const STRICT_VERSION = new RegExp(STRICT_VERSION_PATTERN);

/** `[major, minor, patch]` of a strict X.Y.Z version, or undefined if it is not one. */
export function parseStrictVersion(v: string): [number, number, number] | undefined {
  const m = STRICT_VERSION.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Numeric comparison of two strict X.Y.Z versions (-1, 0, 1). Throws if either is not strict. */
export function compareStrictVersions(a: string, b: string): -1 | 0 | 1 {
  const pa = parseStrictVersion(a);
  const pb = parseStrictVersion(b);
  if (!pa || !pb) throw new Error(`not a strict X.Y.Z version: ${JSON.stringify(pa ? b : a)}`);
  // Strictness is ours (the chain's rule: no prerelease, no build, no `v`); ordering is semver's.
  return semverCompare(a, b);
}

export type ProtocolVersionCheck =
  | { ok: true; value: ProtocolVersion }
  | { ok: false; kind: 'malformed_response' | 'invalid_version' | 'min_above_target'; field?: ProtocolVersionField; reason: string };

const show = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 66 ? `${s.slice(0, 64)}…` : s;
};

/**
 * Checks a protocol version read from a chain (or anywhere): an object with exactly the four
 * fields, each strict X.Y.Z, and min <= target for providers and for consumers (numeric
 * comparison: 0.10.0 > 0.9.9). The failure's `kind` is the matching ChainAnomaly kind.
 */
export function validateProtocolVersion(v: unknown): ProtocolVersionCheck {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    return { ok: false, kind: 'malformed_response', reason: `protocol version must be an object with ${PROTOCOL_VERSION_FIELDS.join(', ')}` };
  }
  const obj = v as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(PROTOCOL_VERSION_FIELDS as readonly string[]).includes(key)) {
      return { ok: false, kind: 'malformed_response', reason: `protocol version has an unexpected field ${show(key)}` };
    }
  }
  for (const field of PROTOCOL_VERSION_FIELDS) {
    const value = obj[field];
    if (typeof value !== 'string') {
      return { ok: false, kind: 'malformed_response', field, reason: `${field} is ${value === undefined ? 'missing' : 'not a string'}` };
    }
    if (!parseStrictVersion(value)) {
      return { ok: false, kind: 'invalid_version', field, reason: `${field} ${show(value)} is not a strict X.Y.Z version` };
    }
  }
  const pv = obj as ProtocolVersion;
  for (const role of ['provider', 'consumer'] as const) {
    const min = pv[`${role}Min`];
    const target = pv[`${role}Target`];
    if (compareStrictVersions(min, target) > 0) {
      return { ok: false, kind: 'min_above_target', field: `${role}Min`, reason: `${role}Min ${min} is above ${role}Target ${target}` };
    }
  }
  return { ok: true, value: { providerTarget: pv.providerTarget, providerMin: pv.providerMin, consumerTarget: pv.consumerTarget, consumerMin: pv.consumerMin } };
}

export function sameProtocolVersion(a: ProtocolVersion, b: ProtocolVersion): boolean {
  return PROTOCOL_VERSION_FIELDS.every((f) => a[f] === b[f]);
}

export const VersionChanged = defineEvent({
  type: 'VersionChanged',
  area: 'chain',
  description:
    'The Lava protocol version on a chain changed (governance param change seen at `height`). Emitted only on a real change; ' +
    'both versions satisfy min <= target per role.',
  streamPattern: 'chain-<chainId>',
  streamId: (d) => d.chainId,
  schema: Type.Object(
    {
      chainId: ChainId(),
      height: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Block height whose results carried the change' }),
      previous: Type.Union([Type.Null(), ProtocolVersionSchema], { description: 'Version before the change; null for the first one seen' }),
      current: ProtocolVersionSchema,
    },
    { additionalProperties: false },
  ),
  validate(d) {
    const cur = validateProtocolVersion(d.current);
    if (!cur.ok) return `current.${cur.reason}`;
    if (d.previous !== null) {
      const prev = validateProtocolVersion(d.previous);
      if (!prev.ok) return `previous.${prev.reason}`;
      if (sameProtocolVersion(d.previous, d.current)) return 'current equals previous: VersionChanged needs a change';
    }
    return undefined;
  },
});

/** Cosmovisor platform keys: `any` or `<os>/<arch>`, e.g. linux/amd64, darwin/arm64. */
export const PLATFORM_PATTERN = '^(any|[a-z0-9]+/[a-z0-9_]+)$';
/** Upgrade names become directory names (upgrades/<name>): file-name safe. */
export const UPGRADE_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._+-]{0,139}$';

export const UpgradePlanned = defineEvent({
  type: 'UpgradePlanned',
  area: 'chain',
  description: 'A chain has an x/upgrade plan (cosmos.upgrade.v1beta1 CurrentPlan): Cosmovisor-style upgrade at a height.',
  streamPattern: 'chain-<chainId>',
  streamId: (d) => d.chainId,
  schema: Type.Object(
    {
      chainId: ChainId(),
      name: Type.String({ minLength: 1, maxLength: 140, pattern: UPGRADE_NAME_PATTERN, description: 'Plan name' }),
      height: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Height at which the chain halts for the upgrade' }),
      info: Type.String({ maxLength: 8192, description: 'Plan info as on chain (often JSON with binaries, or a URL to it)' }),
      binaries: Type.Optional(
        Type.Record(
          Type.String({ pattern: PLATFORM_PATTERN }),
          Type.String({ minLength: 8, maxLength: 2048, pattern: '^(https?|file)://\\S+$', description: 'Download URL, usually with ?checksum=sha256:<hex>' }),
          { additionalProperties: false, minProperties: 1, maxProperties: 32, description: 'Binaries by platform, from the plan info' },
        ),
      ),
    },
    { additionalProperties: false },
  ),
});

export const CHAIN_ANOMALY_KINDS = [
  'malformed_response',
  'invalid_version',
  'min_above_target',
  'rpc_error',
  'invalid_upgrade_plan',
  'height_regressed',
] as const;
export type ChainAnomalyKind = (typeof CHAIN_ANOMALY_KINDS)[number];

/** Longest `raw` a ChainAnomaly holds; truncateRaw cuts to this. */
export const CHAIN_ANOMALY_RAW_MAX = 4096;

/**
 * The raw answer for a ChainAnomaly: strings as they are, bytes as base64, anything else as JSON,
 * cut to `max` characters with a marker saying how much was left out.
 */
export function truncateRaw(value: unknown, max = CHAIN_ANOMALY_RAW_MAX): string {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (value instanceof Uint8Array) s = `base64:${Buffer.from(value).toString('base64')}`;
  else {
    try {
      s = JSON.stringify(value) ?? String(value);
    } catch {
      s = String(value);
    }
  }
  if (s.length <= max) return s;
  // The marker's length is bounded by the one for dropping everything, so the result fits in max.
  const kept = Math.max(0, max - `…[+${s.length} chars]`.length);
  return `${s.slice(0, kept)}…[+${s.length - kept} chars]`;
}

/** Endpoint URLs in events: scheme, host, port and path; no user info, query or fragment. */
export const ENDPOINT_PATTERN = '^[a-z][a-z0-9+.-]*://[^\\s/?#@]+(/[^\\s?#@]*)?$';

/**
 * An RPC endpoint as it may appear in an event: user info (`user:pass@`), query and fragment are
 * removed, since they often carry credentials or API keys.
 */
export function redactEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
  }
}

export const ChainAnomaly = defineEvent({
  type: 'ChainAnomaly',
  area: 'chain',
  description:
    'A chain endpoint answered something that cannot be trusted (malformed, invalid version, min above target, RPC error...). ' +
    'Recorded with the raw answer; never propagated as a version.',
  streamPattern: 'chain-<chainId>',
  streamId: (d) => d.chainId,
  schema: Type.Object(
    {
      chainId: ChainId(),
      height: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Height the answer was for, if known' })),
      endpoint: Type.String({ minLength: 4, maxLength: 512, pattern: ENDPOINT_PATTERN, description: 'Endpoint that answered (see redactEndpoint)' }),
      kind: StringEnum(CHAIN_ANOMALY_KINDS, 'What was wrong'),
      raw: Type.String({ maxLength: CHAIN_ANOMALY_RAW_MAX, description: 'The raw answer, truncated (see truncateRaw)' }),
      reason: Reason({ description: 'Why it was refused, naming the field' }),
    },
    { additionalProperties: false },
  ),
});

const protocolVersionCheck = TypeCompiler.Compile(ProtocolVersionSchema);
/** Type guard for a ProtocolVersion that passes validateProtocolVersion. */
export function isProtocolVersion(v: unknown): v is ProtocolVersion {
  return protocolVersionCheck.Check(v) && validateProtocolVersion(v).ok;
}
