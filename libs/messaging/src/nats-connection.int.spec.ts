import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { freePort, sharedNatsUrl } from '@fleetvisor/testing';
import { connectNats, NatsUnavailableError } from './nats-connection';

const logger = pino({ level: 'silent' });

describe('connectNats', () => {
  it('connects to a reachable server', async () => {
    const nc = await connectNats(sharedNatsUrl(), logger, { name: 'fleetvisor:test' });
    expect(nc.isClosed()).toBe(false);
    await nc.close();
  });

  it('fails fast with an error naming FLEETVISOR_NATS_URL when nothing listens', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await connectNats(`nats://127.0.0.1:${port}`, logger, { connectTimeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`cannot connect to NATS at nats://127.0.0.1:${port}.*FLEETVISOR_NATS_URL`));
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it('hides credentials in the URL (they are taken out of it and used as credentials)', async () => {
    const port = await freePort();
    for (const url of [`nats://fleet:s3cret@127.0.0.1:${port}`, `nats://s3cret@127.0.0.1:${port}`]) {
      const err = (await connectNats(url, logger, { connectTimeoutMs: 500 }).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(NatsUnavailableError);
      expect(err.message).not.toContain('s3cret');
      expect(err.message).toContain(`at nats://127.0.0.1:${port} (set FLEETVISOR_NATS_URL`);
    }
  });
});
