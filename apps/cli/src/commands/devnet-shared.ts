// What the `fleetvisor devnet …` commands share: the --node option, the admin client (loaded
// lazily so other commands do not pay for the devnet's modules), version checks, formatting.
import type { DevnetAdminClient, LavaVersionParams } from '@fleetvisor/devnet';
import { UsageError } from '@fleetvisor/platform';

export const nodeOption = {
  type: 'string',
  description: 'RPC root of the devnet node (env FLEETVISOR_DEVNET_URL, default http://127.0.0.1:26657)',
  placeholder: 'url',
} as const;

export const jsonOption = { type: 'boolean', description: 'print the result as JSON' } as const;

export async function adminClient(node: string | undefined): Promise<DevnetAdminClient> {
  const devnet = await import('@fleetvisor/devnet');
  if (node !== undefined) {
    let u: URL;
    try {
      u = new URL(node);
    } catch {
      throw new UsageError(`--node must be a URL like http://127.0.0.1:26657, got "${node}"`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--node must be an http(s) URL, got "${node}"`);
    return new devnet.DevnetAdminClient(node, '--node');
  }
  return new devnet.DevnetAdminClient(devnet.readDevnetCliConfig().nodeUrl, 'FLEETVISOR_DEVNET_URL');
}

const STRICT_SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

function cmp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** What the Lava chain itself accepts: strict X.Y.Z and min <= target per role. Returns the problems. */
export function versionProblems(v: LavaVersionParams): string[] {
  const problems: string[] = [];
  const flags: [keyof LavaVersionParams, string][] = [
    ['providerTarget', '--provider-target'],
    ['providerMin', '--provider-min'],
    ['consumerTarget', '--consumer-target'],
    ['consumerMin', '--consumer-min'],
  ];
  for (const [k, flag] of flags) if (!STRICT_SEMVER.test(v[k])) problems.push(`${flag} must be X.Y.Z, got "${v[k]}"`);
  if (problems.length === 0) {
    if (cmp(v.providerMin, v.providerTarget) > 0) problems.push(`--provider-min ${v.providerMin} is above --provider-target ${v.providerTarget}`);
    if (cmp(v.consumerMin, v.consumerTarget) > 0) problems.push(`--consumer-min ${v.consumerMin} is above --consumer-target ${v.consumerTarget}`);
  }
  return problems;
}

export function formatVersion(v: LavaVersionParams): string {
  return `provider ${v.providerTarget} (min ${v.providerMin}), consumer ${v.consumerTarget} (min ${v.consumerMin})`;
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return Number(value);
}
