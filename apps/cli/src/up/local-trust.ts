// The local demo fleet's keys (ADR 0006): `up` makes a root once, in its state directory, and from it
// a key for each part that signs: the chain-watcher (chain events), the worker-registry (what it
// passes on to agents) and the operator (the CLI from another terminal finds it there when
// FLEETVISOR_SIGNING_KEY_FILE is not set). A root the operator configured (FLEETVISOR_TRUST_ROOT /
// _FILE) is trusted too, so commands signed with their own keys are accepted by the demo.
import fs from 'node:fs';
import path from 'node:path';
import type { KeyRole } from '@fleetvisor/contracts';
import type { Env } from '@fleetvisor/platform';
import { generateKeyPair, keyPairOf, newKeyFile, newRootKeyFile, readKeyFile, readTrustConfig, rootPublicKeyLine, writeKeyFile } from '@fleetvisor/trust';

export interface LocalTrust {
  dir: string;
  /** Every process of the demo: the roots it trusts. */
  rootsFile: string;
  chainWatcherKey: string;
  registryKey: string;
  operatorKey: string;
  /** The demo REST gateway's key (role gateway: it signs only on behalf of its token holders). */
  gatewayKey: string;
  /** Whether the keys were made by this start. */
  created: boolean;
}

const KEYS: readonly { file: string; name: string; role: KeyRole }[] = [
  { file: 'chain-watcher.key.json', name: 'chain-watcher@up', role: 'chain-watcher' },
  { file: 'worker-registry.key.json', name: 'worker-registry@up', role: 'service' },
  { file: 'operator.key.json', name: 'operator@up', role: 'admin' },
  { file: 'gateway.key.json', name: 'gateway@up', role: 'gateway' },
];

export function provisionLocalTrust(dir: string, env: Env): LocalTrust {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const rootFile = path.join(dir, 'root.key.json');
  let created = false;
  if (!fs.existsSync(rootFile)) {
    writeKeyFile(rootFile, newRootKeyFile('up-root', generateKeyPair()));
    created = true;
  }
  const rootDoc = readKeyFile(rootFile);
  const root = keyPairOf(rootDoc);
  for (const k of KEYS) {
    const file = path.join(dir, k.file);
    if (!fs.existsSync(file)) writeKeyFile(file, newKeyFile(root, generateKeyPair(), k.name, k.role));
  }
  const extra = readTrustConfig(env).roots.filter((r) => r !== rootDoc.publicKey);
  const rootsFile = path.join(dir, 'trusted-roots.pub');
  fs.writeFileSync(rootsFile, rootPublicKeyLine(rootDoc) + extra.map((r) => `${r}  # from FLEETVISOR_TRUST_ROOT(_FILE)\n`).join(''));
  return {
    dir,
    rootsFile,
    chainWatcherKey: path.join(dir, 'chain-watcher.key.json'),
    registryKey: path.join(dir, 'worker-registry.key.json'),
    operatorKey: path.join(dir, 'operator.key.json'),
    gatewayKey: path.join(dir, 'gateway.key.json'),
    created,
  };
}
