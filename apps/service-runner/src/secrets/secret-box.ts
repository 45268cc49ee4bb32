// The keyring password at rest: AES-256-GCM with a key derived by scrypt from a passphrase or the
// contents of a key file (random salt per write). Only ciphertext touches the disk; a wrong key or
// a tampered file fails authentication. The plaintext lives in this process's memory only.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../home/atomic-file';

export type KeySource = { passphrase: string } | { keyFile: string };

const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

interface SealedFile {
  v: 1;
  kdf: 'scrypt';
  N: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

export class SecretError extends Error {
  override name = 'SecretError';
}

function keyMaterial(src: KeySource): Buffer {
  if ('passphrase' in src) {
    if (src.passphrase.length < 8) throw new SecretError('the passphrase must have at least 8 characters');
    return Buffer.from(src.passphrase, 'utf8');
  }
  if (!existsSync(src.keyFile)) throw new SecretError(`key file ${src.keyFile} does not exist`);
  const buf = readFileSync(src.keyFile);
  if (buf.length < 16) throw new SecretError(`key file ${src.keyFile} holds fewer than 16 bytes`);
  return buf;
}

export function seal(plaintext: string, src: KeySource): string {
  const salt = randomBytes(16);
  const key = scryptSync(keyMaterial(src), salt, 32, SCRYPT);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  const file: SealedFile = { v: 1, kdf: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
  return JSON.stringify(file);
}

export function unseal(text: string, src: KeySource): string {
  let f: SealedFile;
  try {
    f = JSON.parse(text) as SealedFile;
  } catch {
    throw new SecretError('the secrets file is not readable');
  }
  if (f.v !== 1 || f.kdf !== 'scrypt') throw new SecretError('the secrets file has an unknown format');
  const key = scryptSync(keyMaterial(src), Buffer.from(f.salt, 'base64'), 32, { N: f.N, r: f.r, p: f.p, maxmem: SCRYPT.maxmem });
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(f.iv, 'base64'));
  d.setAuthTag(Buffer.from(f.tag, 'base64'));
  try {
    return Buffer.concat([d.update(Buffer.from(f.data, 'base64')), d.final()]).toString('utf8');
  } catch {
    throw new SecretError('cannot decrypt the keyring password: wrong passphrase or key file, or the file was altered');
  }
}

/**
 * A stored password: the keyring password every service that asks gets (`keyring-password.enc`),
 * or one service's own (`<service>.password.enc`, `secrets set-password <service>`), which that
 * service gets instead.
 */
export class KeyringPasswordStore {
  readonly file: string;

  constructor(secretsDir: string, service?: string) {
    // The caller validated the name (letters, digits, . _ -): it cannot leave secretsDir.
    this.file = path.join(secretsDir, service === undefined ? 'keyring-password.enc' : `${service}.password.enc`);
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  set(password: string, src: KeySource): void {
    if (password.length === 0) throw new SecretError('the password is empty');
    writeFileAtomic(this.file, seal(password, src), 0o600);
  }

  get(src: KeySource): string {
    if (!this.exists()) throw new SecretError(`no keyring password stored (${this.file}): run \`fleetvisor secrets set-password\``);
    return unseal(readFileSync(this.file, 'utf8'), src);
  }
}
