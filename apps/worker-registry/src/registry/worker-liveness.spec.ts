import { describe, expect, it } from 'vitest';
import { EXPIRATION_MS, unitRegistry } from '../../test/unit-registry';

describe('WorkerLiveness', () => {
  it('expires a silent worker once, counting from the start at the earliest; its next report returns it', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 1);
    const b = await r.agent('w-b', 1);
    await a.report();
    await b.report();
    r.now.ms += EXPIRATION_MS + 1;
    // Started just now: the registry's own absence does not count as the workers' silence.
    r.liveness.start();
    r.liveness.stop();
    expect(await r.liveness.expireSilent()).toBe(0);
    r.now.ms += EXPIRATION_MS / 2;
    await b.report();
    r.now.ms += EXPIRATION_MS / 2 + 1;
    expect(await r.liveness.expireSilent()).toBe(1);
    expect(await r.liveness.expireSilent()).toBe(0);
    expect(r.log.types('worker-w-a').filter((t) => t === 'WorkerExpired')).toHaveLength(1);
    expect(r.log.types('worker-w-b')).not.toContain('WorkerExpired');
    expect(r.log.events('worker-w-a').at(-1)!.data).toMatchObject({ name: 'w-a', expirationMs: EXPIRATION_MS });
    // The expiry keeps the real last-seen time.
    expect(r.queries.info({ worker: 'w-a' }).worker).toMatchObject({ expired: true, lastPing: '2026-12-01T00:00:00.000Z' });
    await a.report();
    expect(r.log.types('worker-w-a').at(-1)).toBe('WorkerReturned');
  });

  it('writes last-seen times in one batch; keeps those without a row, and all of them when the write fails', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 1);
    const b = await r.agent('w-b', 1);
    await a.report();
    await b.report();
    r.tables.missing.add('w-b');
    await r.liveness.flushSeen();
    expect([...r.tables.lastSeen.keys()]).toEqual(['w-a']);
    expect([...r.live.seen.keys()]).toEqual(['w-b']);
    r.tables.missing.clear();
    r.tables.failNext = true;
    await r.liveness.flushSeen();
    expect([...r.live.seen.keys()]).toEqual(['w-b']);
    await r.liveness.flushSeen();
    expect(r.live.seen.size).toBe(0);
    expect([...r.tables.lastSeen.keys()].sort()).toEqual(['w-a', 'w-b']);
  });
});
