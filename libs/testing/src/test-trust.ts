// A fleet trust for tests (ADR 0006): one admin root per test process, and key files per role and
// name made on first use, in a private temporary directory removed when the process exits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KeyRole } from '@fleetvisor/contracts';
import { generateKeyPair, keyPairOf, newKeyFile, newRootKeyFile, rootPublicKeyLine, signerFromFile, TrustVerifier, writeKeyFile, type KeyPair, type Signer } from '@fleetvisor/trust';

export interface TestTrust {
  readonly dir: string;
  readonly root: KeyPair;
  /** The root's public key file: FLEETVISOR_TRUST_ROOT_FILE. */
  readonly rootFile: string;
  /** The root's own key file (role admin). */
  readonly rootKeyFile: string;
  /** A key file for this role and name (made once). */
  keyFile(role: KeyRole, name?: string): string;
  signer(role: KeyRole, name?: string): Signer;
  /** FLEETVISOR_TRUST_ROOT_FILE, and FLEETVISOR_SIGNING_KEY_FILE for the role (default: the admin root). */
  env(role?: KeyRole, name?: string): Record<string, string>;
  verifier(): TrustVerifier;
}

let current: TestTrust | undefined;

export function testTrust(): TestTrust {
  if (current) return current;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetvisor-test-trust-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const root = generateKeyPair();
  const rootDoc = newRootKeyFile('test-admin', root);
  const rootKeyFile = path.join(dir, 'test-admin.key.json');
  writeKeyFile(rootKeyFile, rootDoc);
  const rootFile = path.join(dir, 'test-admin.pub');
  fs.writeFileSync(rootFile, rootPublicKeyLine(rootDoc));
  const files = new Map<string, string>();
  const keyFile = (role: KeyRole, name = `test-${role}`): string => {
    const id = `${role}/${name}`;
    let file = files.get(id);
    if (!file) {
      file = path.join(dir, `${name}.${role}.key.json`);
      writeKeyFile(file, newKeyFile(keyPairOf(rootDoc), generateKeyPair(), name, role));
      files.set(id, file);
    }
    return file;
  };
  current = {
    dir,
    root,
    rootFile,
    rootKeyFile,
    keyFile,
    signer: (role, name) => signerFromFile(keyFile(role, name)),
    env: (role, name) => ({
      FLEETVISOR_TRUST_ROOT_FILE: rootFile,
      FLEETVISOR_SIGNING_KEY_FILE: role === undefined ? rootKeyFile : keyFile(role, name),
    }),
    verifier: () => new TrustVerifier([root.publicKey]),
  };
  return current;
}

/** A TrustConfig for a service built in-process: the test root, and a key of `role` to sign with (none when omitted). */
export function testTrustConfig(role?: KeyRole, name?: string): { roots: string[]; signingKeyFile?: string } {
  const t = testTrust();
  return { roots: [t.root.publicKey], ...(role ? { signingKeyFile: t.keyFile(role, name) } : {}) };
}
