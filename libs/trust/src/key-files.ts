// Key files: one JSON file per identity, mode 0600, holding the private seed, the public key and
// (for every key but a root) the certificate. The root's public key is also written alone
// (`<name>.pub`): that is what every process is given as FLEETVISOR_TRUST_ROOT_FILE.
import fs from 'node:fs';
import path from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Type } from '@sinclair/typebox';
import { KEY_ROLES, KeyCertificateSchema, type KeyCertificate, type KeyRole } from '@fleetvisor/contracts';
import { issueCertificate } from './certificates';
import type { Signer } from './event-proof';
import { keyIdOf, keyPairFromSeed, privateSeedOf, type KeyPair } from './keys';

const KeyFileSchema = Type.Object(
  {
    v: Type.Literal(1),
    kind: Type.Union([Type.Literal('fleetvisor-key'), Type.Literal('fleetvisor-root-key')]),
    kid: Type.String(),
    name: Type.String(),
    role: Type.Union(KEY_ROLES.map((r) => Type.Literal(r))),
    publicKey: Type.String(),
    seed: Type.String(),
    cert: KeyCertificateSchema,
  },
  { additionalProperties: false },
);
const keyFileCheck = TypeCompiler.Compile(KeyFileSchema);

export interface KeyFile {
  v: 1;
  kind: 'fleetvisor-key' | 'fleetvisor-root-key';
  kid: string;
  name: string;
  role: KeyRole;
  publicKey: string;
  seed: string;
  cert: KeyCertificate;
}

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

/** Writes a new file readable by its owner only; refuses to overwrite one (a lost key is not recoverable). */
export function writeKeyFile(file: string, doc: KeyFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileError(`${file} already exists; a key file is never overwritten (move it away first)`);
    throw e;
  }
  try {
    fs.writeFileSync(fd, JSON.stringify(doc, null, 2) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function readKeyFile(file: string): KeyFile {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new KeyFileError(`cannot read key file ${file}: ${(e as Error).message}`);
  }
  if (!keyFileCheck.Check(raw)) throw new KeyFileError(`${file} is not a Fleetvisor key file`);
  const mode = fs.statSync(file).mode & 0o077;
  if (mode !== 0) throw new KeyFileError(`${file} is readable by others (mode ${(fs.statSync(file).mode & 0o777).toString(8)}); chmod 600 it`);
  return raw as KeyFile;
}

export function keyPairOf(doc: KeyFile): KeyPair {
  const pair = keyPairFromSeed(doc.seed, doc.publicKey);
  if (pair.kid !== doc.kid || doc.cert.kid !== doc.kid) throw new KeyFileError(`key file of ${doc.name}: key id does not match its key`);
  return pair;
}

export function signerFromFile(file: string): Signer {
  const doc = readKeyFile(file);
  return { key: keyPairOf(doc), cert: doc.cert };
}

/** A root key: it certifies itself so that an admin can sign commands with it too. */
export function newRootKeyFile(name: string, pair: KeyPair, now = new Date(), validityMs = 10 * 365 * 24 * 3_600_000): KeyFile {
  const cert = issueCertificate(pair, { name, role: 'admin', publicKey: pair.publicKey, now, validityMs });
  return { v: 1, kind: 'fleetvisor-root-key', kid: pair.kid, name, role: 'admin', publicKey: pair.publicKey, seed: privateSeedOf(pair.privateKey), cert };
}

export function newKeyFile(root: KeyPair, pair: KeyPair, name: string, role: KeyRole, opts: { now?: Date; validityMs?: number } = {}): KeyFile {
  const cert = issueCertificate(root, { name, role, publicKey: pair.publicKey, ...opts });
  return { v: 1, kind: 'fleetvisor-key', kid: pair.kid, name, role, publicKey: pair.publicKey, seed: privateSeedOf(pair.privateKey), cert };
}

/** Public keys in a trust-root file: one base64url key per line; blank lines and # comments ignored. */
export function parseTrustRoots(text: string, where: string): string[] {
  const keys = text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l.length > 0)
    .flatMap((l) => l.split(',').map((k) => k.trim()).filter(Boolean));
  for (const k of keys) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(k)) throw new KeyFileError(`${where}: "${k.slice(0, 12)}…" is not an Ed25519 public key (43 base64url characters)`);
  }
  if (keys.length === 0) throw new KeyFileError(`${where}: no public key`);
  return keys;
}

export function rootPublicKeyLine(doc: KeyFile): string {
  return `${doc.publicKey}  # ${doc.name} ${keyIdOf(doc.publicKey)}\n`;
}
