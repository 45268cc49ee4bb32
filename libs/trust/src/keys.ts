// Ed25519 keys (node:crypto), their ids and their text forms.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { KEY_ID_PATTERN } from '@fleetvisor/contracts';

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;
const KID = new RegExp(KEY_ID_PATTERN);

/** A key that can sign: its private half and the public facts about it. */
export interface KeyPair {
  readonly kid: string;
  /** Raw 32-byte public key, base64url. */
  readonly publicKey: string;
  readonly privateKey: KeyObject;
}

/** `fv1` + the first 22 base64url characters of SHA-256 of the raw public key. */
export function keyIdOf(publicKey: string): string {
  return 'fv1' + createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('base64url').slice(0, 22);
}

export function isKeyId(value: string): boolean {
  return KID.test(value);
}

export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (!x) throw new Error('Ed25519 key without a public part');
  return { kid: keyIdOf(x), publicKey: x, privateKey };
}

/** The private key's seed (32 bytes, base64url): what a key file stores. */
export function privateSeedOf(key: KeyObject): string {
  const d = key.export({ format: 'jwk' }).d;
  if (!d) throw new Error('not an Ed25519 private key');
  return d;
}

export function keyPairFromSeed(seed: string, publicKey: string): KeyPair {
  if (!B64URL_32.test(seed) || !B64URL_32.test(publicKey)) throw new Error('an Ed25519 key is 32 bytes in base64url (43 characters)');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: seed, x: publicKey }, format: 'jwk' });
  // A seed that does not belong to the public key would sign what nobody can verify: catch it here.
  const derived = createPublicKey(privateKey).export({ format: 'jwk' }).x;
  if (derived !== publicKey) throw new Error('the private key does not belong to the public key');
  return { kid: keyIdOf(publicKey), publicKey, privateKey };
}

export function publicKeyObject(publicKey: string): KeyObject {
  if (!B64URL_32.test(publicKey)) throw new Error('an Ed25519 public key is 32 bytes in base64url (43 characters)');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

export function signBytes(key: KeyObject, bytes: Buffer): string {
  return sign(null, bytes, key).toString('base64url');
}

/** False for a wrong signature and for anything that is not one (never throws). */
export function verifyBytes(publicKey: string, bytes: Buffer, signature: string): boolean {
  try {
    const sig = Buffer.from(signature, 'base64url');
    if (sig.length !== 64) return false;
    return verify(null, bytes, publicKeyObject(publicKey), sig);
  } catch {
    return false;
  }
}
