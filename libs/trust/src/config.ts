// Where a process finds the roots it trusts and the key it signs with.
//   FLEETVISOR_TRUST_ROOT       admin root public key(s), base64url, comma-separated
//   FLEETVISOR_TRUST_ROOT_FILE  or a file of them, one per line (what `keys init` writes as <name>.pub)
//   FLEETVISOR_SIGNING_KEY_FILE this process's key file (chain-watcher, central services, operators)
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, readUpStateDir, type Env } from '@fleetvisor/platform';
import { KeyFileError, parseTrustRoots, signerFromFile } from './key-files';
import type { Signer } from './event-proof';

export interface TrustConfig {
  /** Root public keys; empty when none is configured. */
  roots: string[];
  /** Path of the signing key file, when configured. */
  signingKeyFile?: string;
}

export function readTrustConfig(env: Env = process.env): TrustConfig {
  const inline = env.FLEETVISOR_TRUST_ROOT?.trim();
  const file = env.FLEETVISOR_TRUST_ROOT_FILE?.trim();
  if (inline && file) throw new ConfigError('FLEETVISOR_TRUST_ROOT', 'set it or FLEETVISOR_TRUST_ROOT_FILE, not both');
  let roots: string[] = [];
  try {
    if (inline) roots = parseTrustRoots(inline, 'FLEETVISOR_TRUST_ROOT');
    else if (file) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new ConfigError('FLEETVISOR_TRUST_ROOT_FILE', `cannot read ${file}: ${(e as Error).message}`);
      }
      roots = parseTrustRoots(text, `FLEETVISOR_TRUST_ROOT_FILE (${file})`);
    }
  } catch (e) {
    if (e instanceof KeyFileError) throw new ConfigError(inline ? 'FLEETVISOR_TRUST_ROOT' : 'FLEETVISOR_TRUST_ROOT_FILE', e.message.replace(/^FLEETVISOR_TRUST_ROOT(_FILE)?( \([^)]*\))?: /, ''));
    throw e;
  }
  const signingKeyFile = env.FLEETVISOR_SIGNING_KEY_FILE?.trim();
  return { roots, ...(signingKeyFile ? { signingKeyFile } : {}) };
}

/** The roots, or a ConfigError saying how to configure them. */
export function requireTrustRoots(config: TrustConfig, who: string): string[] {
  if (config.roots.length === 0) {
    throw new ConfigError('FLEETVISOR_TRUST_ROOT_FILE', `${who} needs the fleet's trust root: set it to the .pub file \`fleetvisor keys init\` wrote (or FLEETVISOR_TRUST_ROOT to the key itself)`);
  }
  return config.roots;
}

/** The signer from FLEETVISOR_SIGNING_KEY_FILE, or a ConfigError naming the variable. */
export function requireSigner(config: TrustConfig, who: string): Signer {
  if (!config.signingKeyFile) throw new ConfigError('FLEETVISOR_SIGNING_KEY_FILE', `${who} signs what it sends: set it to its key file (\`fleetvisor keys create --role … --name …\`)`);
  try {
    return signerFromFile(config.signingKeyFile);
  } catch (e) {
    if (e instanceof KeyFileError) throw new ConfigError('FLEETVISOR_SIGNING_KEY_FILE', e.message);
    throw e;
  }
}

/**
 * The key an operator's CLI signs with: FLEETVISOR_SIGNING_KEY_FILE, else the first of `fallbacks`
 * that exists (the local `fleetvisor up` demo's operator key). Undefined when there is none: a
 * command that needs a signature then fails, unsent, saying which variable to set.
 */
export function operatorSigner(config: TrustConfig, fallbacks: readonly string[]): Signer | undefined {
  if (config.signingKeyFile) return requireSigner(config, 'this command');
  const found = fallbacks.find((f) => fs.existsSync(f));
  if (!found) return undefined;
  try {
    return signerFromFile(found);
  } catch (e) {
    if (e instanceof KeyFileError) throw new ConfigError('FLEETVISOR_SIGNING_KEY_FILE', `not set, and ${e.message}`);
    throw e;
  }
}

/** Where `fleetvisor up` keeps its local demo fleet's keys (the root, each service's, the operator's). */
export function upKeysDir(env: Env = process.env): string {
  return path.join(readUpStateDir(env), 'keys');
}

/** The operator's signer for a CLI command: FLEETVISOR_SIGNING_KEY_FILE, else the local `up` demo's operator key. */
export function cliSigner(env: Env = process.env): Signer | undefined {
  return operatorSigner(readTrustConfig(env), [path.join(upKeysDir(env), 'operator.key.json')]);
}
