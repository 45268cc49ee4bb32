// The one place a process decides whether a signed thing is authentic and allowed: the roots it
// trusts (FLEETVISOR_TRUST_ROOT), the revocations it has heard of (fleet_keys KV bucket), and the
// certificate that came with the signature.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { KeyCertificateSchema, KeyRevocationSchema, type KeyCertificate, type KeyRevocation, type KeyRole } from '@fleetvisor/contracts';
import { signedByRoot } from './certificates';
import { keyIdOf, verifyBytes } from './keys';
import { roleSatisfies } from './roles';

const certCheck = TypeCompiler.Compile(KeyCertificateSchema);
const revocationCheck = TypeCompiler.Compile(KeyRevocationSchema);

/** Who signed, once verified. `name` is what events record as the actor. */
export interface VerifiedIdentity {
  readonly kid: string;
  readonly name: string;
  readonly role: KeyRole;
}

/** `unauthorized`: no valid identity. `forbidden`: a valid identity whose role is too weak. */
export type Verdict = { ok: true; identity: VerifiedIdentity } | { ok: false; code: 'unauthorized' | 'forbidden'; reason: string };

export const refuse = (code: 'unauthorized' | 'forbidden', reason: string): Verdict => ({ ok: false, code, reason });

export class TrustVerifier {
  private readonly roots = new Map<string, string>();
  private readonly revoked = new Map<string, KeyRevocation>();

  /** rootPublicKeys: base64url raw Ed25519 public keys of the admin roots (several during a rotation). */
  constructor(rootPublicKeys: readonly string[], private readonly clock: () => number = Date.now) {
    if (rootPublicKeys.length === 0) throw new Error('a trust verifier needs at least one root public key');
    for (const k of rootPublicKeys) this.roots.set(keyIdOf(k), k);
  }

  get rootKeyIds(): string[] {
    return [...this.roots.keys()];
  }

  now(): number {
    return this.clock();
  }

  /** Takes a revocation if a root signed it; returns why not otherwise. */
  addRevocation(raw: unknown): { ok: true } | { ok: false; reason: string } {
    if (!revocationCheck.Check(raw)) return { ok: false, reason: 'not a key revocation' };
    if (!signedByRoot(raw, this.roots)) return { ok: false, reason: `revocation of ${raw.kid} is not signed by a trusted root` };
    this.revoked.set(raw.kid, raw);
    return { ok: true };
  }

  isRevoked(kid: string): boolean {
    return this.revoked.has(kid);
  }

  /** The certificate is well formed, issued by a trusted root, in its validity, not revoked. */
  checkCertificate(raw: unknown): { ok: true; cert: KeyCertificate } | { ok: false; reason: string } {
    if (!certCheck.Check(raw)) return { ok: false, reason: 'the certificate is malformed' };
    const cert = raw;
    if (keyIdOf(cert.publicKey) !== cert.kid) return { ok: false, reason: 'the certificate\'s key id does not match its key' };
    if (!this.roots.has(cert.issuer)) return { ok: false, reason: `the certificate of ${cert.name} was issued by ${cert.issuer}, not a trusted root` };
    if (!signedByRoot(cert, this.roots)) return { ok: false, reason: `the certificate of ${cert.name} has a bad signature` };
    const now = this.clock();
    if (now < Date.parse(cert.notBefore)) return { ok: false, reason: `the certificate of ${cert.name} is not valid before ${cert.notBefore}` };
    if (now > Date.parse(cert.notAfter)) return { ok: false, reason: `the certificate of ${cert.name} expired at ${cert.notAfter}` };
    if (this.revoked.has(cert.kid) || this.revoked.has(cert.issuer)) return { ok: false, reason: `the key ${cert.kid} (${cert.name}) is revoked` };
    return { ok: true, cert };
  }

  /** Verifies `sig` over `bytes` by the certified key (whatever its role). */
  authenticate(certRaw: unknown, bytes: Buffer, sig: string): Verdict {
    const c = this.checkCertificate(certRaw);
    if (!c.ok) return refuse('unauthorized', c.reason);
    if (!verifyBytes(c.cert.publicKey, bytes, sig)) return refuse('unauthorized', `the signature does not verify with the key of ${c.cert.name}`);
    return { ok: true, identity: { kid: c.cert.kid, name: c.cert.name, role: c.cert.role } };
  }

  /** Verifies `sig` over `bytes` by the certified key, and that its role satisfies `needed`. */
  verify(certRaw: unknown, bytes: Buffer, sig: string, needed: KeyRole): Verdict {
    const v = this.authenticate(certRaw, bytes, sig);
    if (!v.ok) return v;
    const { name, role } = v.identity;
    if (!roleSatisfies(role, needed)) return { ok: false, code: 'forbidden', reason: `${name} has role ${role}; this needs ${needed}` };
    return v;
  }
}
