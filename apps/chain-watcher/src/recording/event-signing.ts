// The chain events hosts act on (VersionChanged, UpgradePlanned) leave the watcher signed with its
// chain-watcher key (ADR 0006): a host upgrades only on an event whose proof verifies against the
// fleet's trust root. ChainAnomaly makes no host act and stays unsigned.
import { UpgradePlanned, VersionChanged, type EventEnvelope } from '@fleetvisor/contracts';
import { ConfigError } from '@fleetvisor/platform';
import { readTrustConfig, requireSigner, signEvent, TrustVerifier, type Signer } from '@fleetvisor/trust';

const SIGNED_TYPES: ReadonlySet<string> = new Set([VersionChanged.type, UpgradePlanned.type]);

export const isSignedChainEvent = (type: string): boolean => SIGNED_TYPES.has(type);

/** Each VersionChanged / UpgradePlanned signed; other events as they are. */
export function signChainEvents(events: readonly EventEnvelope[], signer: Signer): EventEnvelope[] {
  return events.map((e) => (isSignedChainEvent(e.type) ? signEvent(e, signer) : e));
}

/**
 * The chain-watcher's signer from FLEETVISOR_SIGNING_KEY_FILE: a key file whose certificate has role
 * chain-watcher and is valid now, and, when the process is given the trust root, issued by it (a key
 * of another fleet would sign what no host accepts). Anything else is a ConfigError naming the variable.
 */
export function chainWatcherSigner(env: NodeJS.ProcessEnv, now = Date.now): Signer {
  const trust = readTrustConfig(env);
  const signer = requireSigner(trust, 'the chain-watcher');
  const { cert } = signer;
  if (cert.role !== 'chain-watcher') {
    throw new ConfigError('FLEETVISOR_SIGNING_KEY_FILE', `the key of ${cert.name} has role ${cert.role}; the chain-watcher signs with a chain-watcher key (\`fleetvisor keys create --role chain-watcher --name …\`)`);
  }
  const check = trust.roots.length > 0 ? new TrustVerifier(trust.roots, now).checkCertificate(cert) : undefined;
  if (check && !check.ok) throw new ConfigError('FLEETVISOR_SIGNING_KEY_FILE', `hosts would refuse what this key signs: ${check.reason}`);
  const t = now();
  if (t < Date.parse(cert.notBefore) || t > Date.parse(cert.notAfter)) {
    throw new ConfigError('FLEETVISOR_SIGNING_KEY_FILE', `the certificate of ${cert.name} is valid from ${cert.notBefore} to ${cert.notAfter}, not now`);
  }
  return signer;
}
