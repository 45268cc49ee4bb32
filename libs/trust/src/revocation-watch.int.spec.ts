// watchRevocations against the shared NATS: a bucket of the test's own (not fleet_keys), made after
// the watch started (the migrate-made bucket missing at first), revocations put before and after.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { envReader } from '@fleetvisor/platform';
import { issueCertificate, signRevocation } from './certificates';
import { generateKeyPair } from './keys';
import { revocationKey, watchRevocations } from './revocation-watch';
import { TrustVerifier } from './verifier';

const root = generateKeyPair();
const stranger = generateKeyPair();
const certOf = (name: string) => {
  const key = generateKeyPair();
  return issueCertificate(root, { name, role: 'chain-watcher', publicKey: key.publicKey });
};

// The shared test NATS (as @fleetvisor/testing reads it; not imported: testing depends on this library).
const NATS_URL = envReader().url('FLEETVISOR_TEST_NATS_URL', 'nats://127.0.0.1:4222', ['nats', 'tls']);

async function eventually(check: () => void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (e) {
      if (Date.now() >= deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

let nc: NatsConnection;
const bucket = `fleet_keys_t${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
});

afterAll(async () => {
  await (await nc.jetstreamManager()).streams.delete(`KV_${bucket}`).catch(() => undefined);
  await nc.close();
});

describe('watchRevocations', () => {
  it('waits for a missing bucket (said once), then takes root-signed revocations, old and new, and refuses the rest', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _e, cb) {
          for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
          cb();
        },
      }),
    );
    const verifier = new TrustVerifier([root.publicKey]);
    const refused: string[] = [];
    const watch = watchRevocations(nc, verifier, { logger, bucket, retryInitialMs: 50, retryMaxMs: 100, onRefused: (key, reason) => refused.push(`${key}: ${reason}`) });
    try {
      // Missing bucket: retried several times, said once.
      await eventually(() => expect(watch.failures).toBeGreaterThanOrEqual(4));
      // No bucket, no revocation: ready says so, so that receivers waiting for it do not wait forever.
      await watch.ready;
      expect(lines.filter((l) => String(l['msg']).includes('cannot watch key revocations'))).toHaveLength(1);

      const early = certOf('early');
      const late = certOf('late');
      const kv = await nc.jetstream().views.kv(bucket, { history: 1 });
      await kv.put(revocationKey(early.kid), JSON.stringify(signRevocation(root, early.kid, { reason: 'leaked' })));
      await eventually(() => expect(verifier.isRevoked(early.kid)).toBe(true));
      expect(verifier.checkCertificate(early)).toMatchObject({ ok: false, reason: expect.stringContaining('revoked') });

      // A revocation not signed by the root, and one filed under another key, are refused.
      await kv.put(revocationKey(late.kid), JSON.stringify(signRevocation(stranger, late.kid)));
      const other = certOf('other');
      await kv.put(revocationKey(other.kid), JSON.stringify(signRevocation(root, late.kid)));
      await eventually(() => expect(refused).toHaveLength(2));
      expect(refused[0]).toContain('not signed by a trusted root');
      expect(refused[1]).toContain(`not ${other.kid}`);
      expect(verifier.isRevoked(late.kid)).toBe(false);
      expect(verifier.checkCertificate(late).ok).toBe(true);

      // Heard while watching.
      await kv.put(revocationKey(late.kid), JSON.stringify(signRevocation(root, late.kid)));
      await eventually(() => expect(verifier.isRevoked(late.kid)).toBe(true));
      expect(watch.taken).toBe(2);
    } finally {
      await watch.stop();
    }
  });

  it('is ready only once the revocations already in the bucket are taken', async () => {
    const kv = await nc.jetstream().views.kv(bucket);
    const early = certOf('before-start');
    await kv.put(revocationKey(early.kid), JSON.stringify(signRevocation(root, early.kid)));
    const verifier = new TrustVerifier([root.publicKey]);
    const watch = watchRevocations(nc, verifier, { logger: pino({ level: 'silent' }), bucket });
    try {
      await watch.ready;
      expect(verifier.isRevoked(early.kid)).toBe(true);
    } finally {
      await watch.stop();
    }
  });
});
