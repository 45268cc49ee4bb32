// Key certificates: {kid, name, role, publicKey, validity} signed by an admin root key. A signature
// always travels with its signer's certificate, so a verifier needs only the roots it trusts and
// the revocations it has heard of.
import type { KeyCertificate, KeyRevocation, KeyRole } from '@fleetvisor/contracts';
import { canonicalBytes } from './canonical';
import { keyIdOf, signBytes, verifyBytes, type KeyPair } from './keys';

export const DEFAULT_CERT_VALIDITY_MS = 365 * 24 * 3_600_000;

export interface IssueOptions {
  name: string;
  role: KeyRole;
  /** The certified key's public key (base64url). */
  publicKey: string;
  now?: Date;
  validityMs?: number;
}

function unsigned<T extends { sig: string }>(doc: T): Omit<T, 'sig'> {
  const { sig: _sig, ...rest } = doc;
  return rest;
}

export function issueCertificate(root: KeyPair, opts: IssueOptions): KeyCertificate {
  const now = opts.now ?? new Date();
  const body: Omit<KeyCertificate, 'sig'> = {
    v: 1,
    kid: keyIdOf(opts.publicKey),
    name: opts.name,
    role: opts.role,
    publicKey: opts.publicKey,
    issuer: root.kid,
    notBefore: now.toISOString(),
    notAfter: new Date(now.getTime() + (opts.validityMs ?? DEFAULT_CERT_VALIDITY_MS)).toISOString(),
  };
  return { ...body, sig: signBytes(root.privateKey, canonicalBytes(body)) };
}

export function signRevocation(root: KeyPair, kid: string, opts: { reason?: string; now?: Date } = {}): KeyRevocation {
  const body: Omit<KeyRevocation, 'sig'> = {
    v: 1,
    kid,
    revokedAt: (opts.now ?? new Date()).toISOString(),
    ...(opts.reason ? { reason: opts.reason } : {}),
    issuer: root.kid,
  };
  return { ...body, sig: signBytes(root.privateKey, canonicalBytes(body)) };
}

/** Checks a document's signature by the root key it names as issuer. */
export function signedByRoot(doc: { issuer: string; sig: string }, roots: ReadonlyMap<string, string>): boolean {
  const rootKey = roots.get(doc.issuer);
  return rootKey !== undefined && verifyBytes(rootKey, canonicalBytes(unsigned(doc)), doc.sig);
}
