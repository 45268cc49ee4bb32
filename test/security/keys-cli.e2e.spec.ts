// `fleetvisor keys init|create|list|revoke` as an operator runs them (compiled CLI, shared NATS):
// the files they write, what reaches the key bucket, and that a revocation is signed by the root.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetvisorEnv, sharedNatsUrl, testBusNames } from '@fleetvisor/testing';
import { keysBucketName, signerFromFile, TrustVerifier } from '@fleetvisor/trust';

const BIN = path.resolve(__dirname, '../../bin/fleetvisor.js');
const bus = testBusNames();
const dir = mkdtempSync(path.join(tmpdir(), 'fvt-keys-'));
const env = fleetvisorEnv({ bus });
let nc: NatsConnection;

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  nc = await connect({ servers: sharedNatsUrl() });
  // What `fleetvisor migrate` makes for this subject root.
  await (await nc.jetstreamManager()).streams.info(`KV_${keysBucketName(bus.subjectRoot)}`).catch(async () => nc.jetstream().views.kv(keysBucketName(bus.subjectRoot), { history: 8 }));
});

afterAll(async () => {
  await (await nc.jetstreamManager()).streams.delete(`KV_${keysBucketName(bus.subjectRoot)}`).catch(() => undefined);
  await nc.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fleetvisor keys', () => {
  it('init makes a 0600 root key and its public trust root, and never overwrites them', () => {
    const r = cli('keys', 'init', '--dir', dir, '--name', 'fleet-root', '--json');
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { kid: string; keyFile: string; trustRootFile: string };
    expect(statSync(out.keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(out.trustRootFile, 'utf8')).toMatch(/^[A-Za-z0-9_-]{43}  # fleet-root fv1/);
    const again = cli('keys', 'init', '--dir', dir, '--name', 'fleet-root');
    expect(again.code).not.toBe(0);
    expect(again.err).toContain('already exists');
  });

  it('create certifies a key with its role (refusing unknown roles), publishes the certificate, and list shows it', () => {
    const root = path.join(dir, 'fleet-root.key.json');
    expect(cli('keys', 'create', '--role', 'superuser', '--name', 'x', '--root-key', root).err).toContain('--role must be one of read, operate, admin, chain-watcher, service');
    const r = cli('keys', 'create', '--role', 'operate', '--name', 'alice', '--root-key', root, '--json');
    expect(r.code, r.err).toBe(0);
    const created = JSON.parse(r.out) as { kid: string; keyFile: string; published: boolean };
    expect(created.published).toBe(true);
    const signer = signerFromFile(created.keyFile);
    const rootPub = readFileSync(path.join(dir, 'fleet-root.pub'), 'utf8').split(/\s/)[0]!;
    expect(new TrustVerifier([rootPub]).checkCertificate(signer.cert)).toMatchObject({ ok: true, cert: { name: 'alice', role: 'operate' } });
    const list = cli('keys', 'list', '--json');
    expect(list.code, list.err).toBe(0);
    expect((JSON.parse(list.out) as { keys: unknown[] }).keys).toEqual([expect.objectContaining({ kid: created.kid, name: 'alice', role: 'operate' })]);
  });

  it('revoke puts a root-signed revocation in the bucket; list marks the key revoked', async () => {
    const root = path.join(dir, 'fleet-root.key.json');
    const kid = (JSON.parse(cli('keys', 'list', '--json').out) as { keys: { kid: string }[] }).keys[0]!.kid;
    expect(cli('keys', 'revoke', 'not-a-kid', '--root-key', root).code).not.toBe(0);
    const r = cli('keys', 'revoke', kid, '--root-key', root, '--reason', 'laptop lost');
    expect(r.code, r.err).toBe(0);
    const entry = await (await nc.jetstream().views.kv(keysBucketName(bus.subjectRoot), { bindOnly: true })).get(`revoked.${kid}`);
    const rootPub = readFileSync(path.join(dir, 'fleet-root.pub'), 'utf8').split(/\s/)[0]!;
    const verifier = new TrustVerifier([rootPub]);
    expect(verifier.addRevocation(JSON.parse(entry!.string()))).toEqual({ ok: true });
    expect(verifier.isRevoked(kid)).toBe(true);
    expect((JSON.parse(cli('keys', 'list', '--json').out) as { keys: { revokedAt?: string }[] }).keys[0]!.revokedAt).toEqual(expect.any(String));
  });
});
