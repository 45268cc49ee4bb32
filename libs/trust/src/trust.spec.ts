import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { newEventFor, VersionChanged, type EventEnvelope } from '@fleetvisor/contracts';
import {
  canonicalBytes,
  decodeCommandAuth,
  encodeCommandAuth,
  generateKeyPair,
  issueCertificate,
  keyIdOf,
  newKeyFile,
  newRootKeyFile,
  NonceCache,
  readKeyFile,
  readTrustConfig,
  roleSatisfies,
  signCommand,
  signerFromFile,
  signEvent,
  signRevocation,
  TrustVerifier,
  verifyCommand,
  verifyEvent,
  writeKeyFile,
  type Signer,
} from './index';

const root = generateKeyPair();
const signerWith = (role: Signer['cert']['role'], name = `${role}-key`, issuer = root): Signer => {
  const key = generateKeyPair();
  return { key, cert: issueCertificate(issuer, { name, role, publicKey: key.publicKey }) };
};
const verifier = (clock?: () => number) => new TrustVerifier([root.publicKey], clock);

const versionEvent = (): EventEnvelope =>
  newEventFor(VersionChanged, {
    chainId: 'lava-local-1',
    height: 120,
    previous: { providerTarget: '1.0.0', providerMin: '1.0.0', consumerTarget: '1.0.0', consumerMin: '1.0.0' },
    current: { providerTarget: '1.2.0', providerMin: '1.1.0', consumerTarget: '1.2.0', consumerMin: '1.1.0' },
  } as never);

describe('canonical form (RFC 8785)', () => {
  it('orders keys and is independent of how the JSON was written', () => {
    expect(canonicalBytes({ b: 1, a: [2, { d: 'x', c: null }] }).toString()).toBe('{"a":[2,{"c":null,"d":"x"}],"b":1}');
    expect(canonicalBytes(JSON.parse('{"z":1.0,"y":1e2}')).toString()).toBe('{"y":100,"z":1}');
  });
});

describe('roles', () => {
  it('orders read < operate < admin; service stops at operate; chain-watcher only signs chain events', () => {
    expect(roleSatisfies('admin', 'operate')).toBe(true);
    expect(roleSatisfies('operate', 'admin')).toBe(false);
    expect(roleSatisfies('read', 'operate')).toBe(false);
    expect(roleSatisfies('service', 'operate')).toBe(true);
    expect(roleSatisfies('service', 'admin')).toBe(false);
    expect(roleSatisfies('chain-watcher', 'read')).toBe(false);
    expect(roleSatisfies('admin', 'chain-watcher')).toBe(false);
  });
});

describe('certificates', () => {
  it('accepts a certificate issued by a trusted root, refuses one issued by another key', () => {
    expect(verifier().checkCertificate(signerWith('operate').cert).ok).toBe(true);
    const other = generateKeyPair();
    const r = verifier().checkCertificate(signerWith('operate', 'mallory', other).cert);
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining('not a trusted root') });
  });

  it('refuses a certificate whose role was changed after signing', () => {
    const cert = { ...signerWith('read').cert, role: 'admin' as const };
    expect(verifier().checkCertificate(cert)).toMatchObject({ ok: false, reason: expect.stringContaining('bad signature') });
  });

  it('refuses an expired certificate and a revoked key, and only root-signed revocations count', () => {
    const s = signerWith('operate');
    const later = () => Date.parse(s.cert.notAfter) + 1;
    expect(verifier(later).checkCertificate(s.cert)).toMatchObject({ ok: false, reason: expect.stringContaining('expired') });
    const v = verifier();
    const forged = signRevocation(generateKeyPair(), s.cert.kid);
    expect(v.addRevocation(forged)).toMatchObject({ ok: false });
    expect(v.checkCertificate(s.cert).ok).toBe(true);
    expect(v.addRevocation(signRevocation(root, s.cert.kid, { reason: 'laptop lost' }))).toEqual({ ok: true });
    expect(v.checkCertificate(s.cert)).toMatchObject({ ok: false, reason: expect.stringContaining('revoked') });
  });
});

describe('signed events', () => {
  it('verifies after a JSON round trip that reorders keys, and names the signer', () => {
    const watcher = signerWith('chain-watcher', 'chain-watcher@a');
    const signed = signEvent(versionEvent(), watcher);
    const { metadata, data, ...rest } = signed;
    const reordered = JSON.parse(JSON.stringify({ metadata, data, ...rest })) as EventEnvelope;
    expect(verifyEvent(reordered, verifier(), 'chain-watcher')).toEqual({ ok: true, identity: { kid: watcher.cert.kid, name: 'chain-watcher@a', role: 'chain-watcher' } });
  });

  it('refuses an unsigned event, a changed field, and a signer without the chain-watcher role', () => {
    expect(verifyEvent(versionEvent(), verifier(), 'chain-watcher')).toMatchObject({ ok: false, code: 'unauthorized', reason: 'the event is not signed' });
    const signed = signEvent(versionEvent(), signerWith('chain-watcher'));
    const tampered = { ...signed, data: { ...(signed.data as object), height: 999_999 } };
    expect(verifyEvent(tampered, verifier(), 'chain-watcher')).toMatchObject({ ok: false, code: 'unauthorized', reason: expect.stringContaining('does not verify') });
    const byOperator = signEvent(versionEvent(), signerWith('admin'));
    expect(verifyEvent(byOperator, verifier(), 'chain-watcher')).toMatchObject({ ok: false, code: 'forbidden' });
  });

  it('refuses to sign an occurredAt the log would read back differently', () => {
    const e = { ...versionEvent(), occurredAt: '2026-12-07T03:00:00Z' };
    expect(() => signEvent(e, signerWith('chain-watcher'))).toThrow(/milliseconds/);
  });
});

describe('signed commands', () => {
  const subject = 't_x.cmd.worker-registry.pause';
  const body = { worker: 'w-01', index: 2 };
  const operator = signerWith('operate', 'alice');

  const check = (header: string | undefined, opts: Partial<{ subject: string; body: unknown; nonces: NonceCache; v: TrustVerifier }> = {}) =>
    verifyCommand({ header, subject: opts.subject ?? subject, body: opts.body ?? body, verifier: opts.v ?? verifier(), needed: 'operate', nonces: opts.nonces ?? new NonceCache() });

  it('verifies the signer and returns the command id; the root of the subject is not signed', () => {
    const auth = signCommand({ subject: 'fleet.cmd.worker-registry.pause', body, signer: operator });
    expect(check(encodeCommandAuth(auth))).toEqual({ ok: true, identity: { kid: operator.cert.kid, name: 'alice', role: 'operate' }, commandId: auth.id, signedAt: auth.iat });
  });

  it('refuses a missing or malformed header, another subject, another body', () => {
    const header = encodeCommandAuth(signCommand({ subject, body, signer: operator }));
    expect(check(undefined)).toMatchObject({ ok: false, code: 'unauthorized', reason: expect.stringContaining('not signed') });
    expect(check('e30')).toMatchObject({ ok: false, reason: 'the Fleet-Auth header is malformed' });
    expect(check(header, { subject: 't_x.cmd.worker-registry.remove' })).toMatchObject({ ok: false, code: 'unauthorized' });
    expect(check(header, { body: { worker: 'w-02', index: 2 } })).toMatchObject({ ok: false, code: 'unauthorized' });
  });

  it('refuses a replay of the same command id, an expired signature and a too long lifetime', () => {
    const nonces = new NonceCache();
    const header = encodeCommandAuth(signCommand({ subject, body, signer: operator }));
    expect(check(header, { nonces }).ok).toBe(true);
    expect(check(header, { nonces })).toMatchObject({ ok: false, reason: expect.stringContaining('replay') });
    const old = encodeCommandAuth(signCommand({ subject, body, signer: operator, now: Date.now() - 120_000 }));
    expect(check(old)).toMatchObject({ ok: false, reason: expect.stringContaining('expired') });
    const auth = signCommand({ subject, body, signer: operator });
    const long = encodeCommandAuth({ ...auth, exp: auth.iat + 3_600_000 });
    expect(check(long)).toMatchObject({ ok: false, reason: expect.stringContaining('at most') });
  });

  it('refuses a read key for an operate command (forbidden) and keeps the decoded auth intact', () => {
    const auth = signCommand({ subject, body, signer: signerWith('read', 'bob') });
    expect(decodeCommandAuth(encodeCommandAuth(auth))).toEqual(auth);
    expect(check(encodeCommandAuth(auth))).toMatchObject({ ok: false, code: 'forbidden', reason: 'bob has role read; this needs operate' });
  });
});

describe('delegated commands (a gateway acting for a token holder, ADR 0010)', () => {
  const subject = 't_x.cmd.worker-registry.pause';
  const body = { worker: 'w-01', index: 2 };
  const gateway = signerWith('gateway', 'gateway-a');
  const check = (header: string, needed: 'operate' | 'admin' = 'operate') =>
    verifyCommand({ header, subject, body, verifier: verifier(), needed, nonces: new NonceCache() });

  it('takes the delegated role as the effective role and records gateway/token:name as the actor', () => {
    const auth = signCommand({ subject, body, signer: gateway, act: { name: 'alice', role: 'operate' } });
    expect(check(encodeCommandAuth(auth))).toMatchObject({ ok: true, identity: { kid: gateway.cert.kid, name: 'gateway-a/token:alice', role: 'operate' } });
    expect(check(encodeCommandAuth(signCommand({ subject, body, signer: gateway, act: { name: 'alice', role: 'operate' } })), 'admin')).toMatchObject({
      ok: false,
      code: 'forbidden',
      reason: 'gateway-a/token:alice has role operate; this needs admin',
    });
    expect(check(encodeCommandAuth(signCommand({ subject, body, signer: gateway, act: { name: 'root', role: 'admin' } })), 'admin')).toMatchObject({ ok: true, identity: { role: 'admin' } });
  });

  it('a gateway key alone may do nothing: without a delegation it is refused', () => {
    expect(check(encodeCommandAuth(signCommand({ subject, body, signer: gateway })))).toMatchObject({ ok: false, code: 'forbidden', reason: 'gateway-a has role gateway; this needs operate' });
    expect(roleSatisfies('gateway', 'read')).toBe(false);
  });

  it('refuses a delegation signed by a key that is not a gateway key, even an admin one', () => {
    for (const role of ['admin', 'operate', 'service', 'chain-watcher'] as const) {
      const auth = signCommand({ subject, body, signer: signerWith(role, `${role}-key`), act: { name: 'alice', role: 'operate' } });
      expect(check(encodeCommandAuth(auth))).toMatchObject({ ok: false, code: 'unauthorized', reason: `${role}-key has role ${role}; only a gateway key may act on another's behalf` });
    }
  });

  it('refuses a forged delegation: the delegated role or name changed after signing, or added to a plain signature', () => {
    const auth = signCommand({ subject, body, signer: gateway, act: { name: 'alice', role: 'read' } });
    expect(check(encodeCommandAuth({ ...auth, act: { name: 'alice', role: 'admin' } }), 'admin')).toMatchObject({ ok: false, code: 'unauthorized', reason: expect.stringContaining('does not verify') });
    expect(check(encodeCommandAuth({ ...auth, act: { name: 'mallory', role: 'read' } }))).toMatchObject({ ok: false, code: 'unauthorized' });
    const plain = signCommand({ subject, body, signer: gateway });
    expect(check(encodeCommandAuth({ ...plain, act: { name: 'alice', role: 'operate' } }))).toMatchObject({ ok: false, code: 'unauthorized' });
    // A gateway certificate made by someone other than the root cannot delegate either.
    const rogue = signerWith('gateway', 'gateway-x', generateKeyPair());
    expect(check(encodeCommandAuth(signCommand({ subject, body, signer: rogue, act: { name: 'alice', role: 'operate' } })))).toMatchObject({ ok: false, code: 'unauthorized' });
  });
});

describe('key files and configuration', () => {
  it('writes 0600 files, never overwrites, and reads back a working signer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-keys-'));
    try {
      const rootDoc = newRootKeyFile('admin', root);
      writeKeyFile(path.join(dir, 'admin.key.json'), rootDoc);
      expect(() => writeKeyFile(path.join(dir, 'admin.key.json'), rootDoc)).toThrow(/never overwritten/);
      const pair = generateKeyPair();
      const file = path.join(dir, 'alice.key.json');
      writeKeyFile(file, newKeyFile(root, pair, 'alice', 'operate'));
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(readKeyFile(file).kid).toBe(keyIdOf(pair.publicKey));
      const signer = signerFromFile(file);
      const auth = signCommand({ subject: 'fleet.cmd.x.y', body: {}, signer });
      expect(verifyCommand({ header: encodeCommandAuth(auth), subject: 'fleet.cmd.x.y', body: {}, verifier: verifier(), needed: 'operate', nonces: new NonceCache() }).ok).toBe(true);
      fs.chmodSync(file, 0o644);
      expect(() => readKeyFile(file)).toThrow(/chmod 600/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads trust roots inline or from a file, and names the variable on a bad key', () => {
    expect(readTrustConfig({ FLEETVISOR_TRUST_ROOT: root.publicKey }).roots).toEqual([root.publicKey]);
    expect(() => readTrustConfig({ FLEETVISOR_TRUST_ROOT: 'nope' })).toThrow(/FLEETVISOR_TRUST_ROOT: "nope…" is not an Ed25519 public key/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-roots-'));
    try {
      const f = path.join(dir, 'admin.pub');
      fs.writeFileSync(f, `# fleet root\n${root.publicKey}  # admin\n`);
      expect(readTrustConfig({ FLEETVISOR_TRUST_ROOT_FILE: f }).roots).toEqual([root.publicKey]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
