import { describe, expect, it } from 'vitest';
import { unitRegistry } from '../../test/unit-registry';

describe('WorkerQueries', () => {
  it('lists workers in name order with counts; pages after a name; info by name or address', async () => {
    const r = unitRegistry();
    for (const n of ['w-c', 'w-a', 'w-b']) await (await r.agent(n, 2, `10.1.1.${n.at(-1)!.charCodeAt(0)}:1`)).report();
    expect(r.queries.list().workers.map((w) => [w.name, w.threads, w.empty])).toEqual([
      ['w-a', 2, 2],
      ['w-b', 2, 2],
      ['w-c', 2, 2],
    ]);
    expect(r.queries.listPage({ limit: 2 })).toMatchObject({ workers: [{ name: 'w-a' }, { name: 'w-b' }], next: 'w-b', total: 3 });
    const last = r.queries.listPage({ after: 'w-b', limit: 2 });
    expect(last.workers.map((w) => w.name)).toEqual(['w-c']);
    expect(last.next).toBeUndefined();
    expect(r.queries.info({ worker: '10.1.1.98:1' }).worker.name).toBe('w-b');
  });

  it('errors lists the threads with a last error; history reads the log and says what is unknown', async () => {
    const r = unitRegistry();
    const a = await r.agent('w-a', 2);
    a.move(0, 'Allocated', { sectorId: 's-t01000-1' });
    a.fail(0, 'disk full');
    await a.report();
    expect(r.queries.errors().threads).toEqual([
      { worker: 'w-a', index: 0, plan: 'sealer', state: 'Allocated', sectorId: 's-t01000-1', paused: true, lastError: 'permanent: disk full', expired: false },
    ]);
    const h = await r.queries.history({ worker: 'w-a', index: 0 });
    expect(h.entries.map((e) => e.type)).toEqual(['ThreadStateChanged', 'ThreadStateChanged', 'ThreadPaused']);
    await expect(r.queries.history({ worker: 'w-a', index: 7 })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining('threads: 0-1') });
    await expect(r.queries.history({ worker: 'w-z' })).rejects.toMatchObject({ code: 'not_found' });
    await expect(r.queries.history({ sectorId: 's-none' })).rejects.toMatchObject({ code: 'not_found', message: 'no worker has recorded sector s-none' });
    await expect(r.queries.history({})).rejects.toMatchObject({ code: 'invalid_request' });
    r.tables.sectors.set('s-t01000-1', [{ worker: 'w-a', index: 0 }]);
    expect((await r.queries.history({ sectorId: 's-t01000-1', limit: 2 })).truncated).toBe(true);
  });
});
