// The sector-file check on real directories (temp stores written as damocles leaves them); a read
// error is injected through the file-system seam (the tests run as root, which chmod cannot stop).
import { mkdtempSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSectorFiles } from '@fleetvisor/devnet';
import { CheckerBusy, nodeSectorFs, SectorChecker, type SectorFs } from './sector-checker';
import { cacheFiles, sectorFileName, SECTOR_2KIB, SECTOR_32GIB, SECTOR_64GIB, treeRLastFiles } from './sector-layout';

describe('sector layout', () => {
  it('names sectors s-t0<actor>-<number>, the actor id as a plain decimal', () => {
    expect(sectorFileName('t01000', 7)).toBe('s-t01000-7');
    expect(sectorFileName('f01000', 7)).toBe('s-t01000-7');
    expect(sectorFileName('f0001', 12)).toBe('s-t01-12');
    expect(() => sectorFileName('t3abc', 1)).toThrow(/miner ID/);
  });

  it('expects the tree-r-last files lotus and damocles check for each sector size', () => {
    expect(treeRLastFiles(SECTOR_2KIB)).toEqual(['sc-02-data-tree-r-last.dat']);
    expect(treeRLastFiles(SECTOR_32GIB)).toHaveLength(8);
    expect(treeRLastFiles(SECTOR_32GIB)![7]).toBe('sc-02-data-tree-r-last-7.dat');
    expect(treeRLastFiles(SECTOR_64GIB)).toHaveLength(16);
    expect(treeRLastFiles(4096)).toBeUndefined();
    expect(cacheFiles(4096)).toEqual(['p_aux', 't_aux']);
  });
});

describe('SectorChecker', () => {
  let a: string;
  let b: string;
  beforeEach(() => {
    a = mkdtempSync(path.join(tmpdir(), 'fv-store-a-'));
    b = mkdtempSync(path.join(tmpdir(), 'fv-store-b-'));
  });
  afterEach(() => {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });

  const checker = (fs?: SectorFs) => new SectorChecker({ stores: [{ location: a }, { location: b }], ...(fs ? { fs } : {}) });

  it('finds sectors in any store and reports complete ones with no problem; sectors it does not hold are left out', async () => {
    writeSectorFiles(a, 't01000', 1, SECTOR_2KIB);
    writeSectorFiles(b, 't01000', 2, SECTOR_2KIB);
    const r = await checker().check('t01000', SECTOR_2KIB, [2, 1, 3]);
    expect(r.stores).toEqual([{ location: a }, { location: b }]);
    expect(r.checked).toEqual([
      { sector: 2, problems: [] },
      { sector: 1, problems: [] },
    ]);
  });

  it('a missing cache file, a truncated sealed file, a lost cache directory', async () => {
    const one = writeSectorFiles(a, 't01000', 1, SECTOR_2KIB);
    unlinkSync(path.join(one.cache, 'p_aux'));
    const two = writeSectorFiles(a, 't01000', 2, SECTOR_2KIB);
    truncateSync(two.sealed, 1024);
    const three = writeSectorFiles(a, 't01000', 3, SECTOR_2KIB);
    rmSync(three.cache, { recursive: true });
    const four = writeSectorFiles(a, 't01000', 4, SECTOR_2KIB);
    writeFileSync(path.join(four.cache, 't_aux'), '');
    const r = await checker().check('t01000', SECTOR_2KIB, [1, 2, 3, 4]);
    expect(r.checked).toEqual([
      { sector: 1, problems: ['cache/s-t01000-1/p_aux: missing'] },
      { sector: 2, problems: ['sealed/s-t01000-2: wrong size (got 1024, expect 2048)'] },
      { sector: 3, problems: ['cache/s-t01000-3: missing'] },
      { sector: 4, problems: ['cache/s-t01000-4/t_aux: empty'] },
    ]);
  });

  it('the sealed file and the cache directory may be in different stores; a missing sealed file is reported', async () => {
    const s = writeSectorFiles(a, 't01000', 5, SECTOR_2KIB);
    const t = writeSectorFiles(b, 't01000', 5, SECTOR_2KIB);
    rmSync(s.cache, { recursive: true });
    unlinkSync(t.sealed);
    const u = writeSectorFiles(a, 't01000', 6, SECTOR_2KIB);
    unlinkSync(u.sealed);
    const r = await checker().check('t01000', SECTOR_2KIB, [5, 6]);
    expect(r.checked).toEqual([
      { sector: 5, problems: [] },
      { sector: 6, problems: ['sealed/s-t01000-6: missing'] },
    ]);
  });

  it('32 GiB sectors: the 8 tree-r-last files, the sealed file exactly 32 GiB (sparse, never read beyond a byte)', async () => {
    const s = writeSectorFiles(a, 'f01000', 9, SECTOR_32GIB);
    let bytes = 0;
    const counting: SectorFs = { stat: nodeSectorFs.stat, readOneByte: async (p) => (bytes += await nodeSectorFs.readOneByte(p), 1) };
    expect((await checker(counting).check('f01000', SECTOR_32GIB, [9])).checked).toEqual([{ sector: 9, problems: [] }]);
    expect(bytes).toBe(1 + 2 + 8);
    unlinkSync(path.join(s.cache, 'sc-02-data-tree-r-last-6.dat'));
    expect((await checker().check('f01000', SECTOR_32GIB, [9])).checked).toEqual([{ sector: 9, problems: ['cache/s-t01000-9/sc-02-data-tree-r-last-6.dat: missing'] }]);
  });

  it('a snap-upgraded sector is checked in update/ and update-cache/', async () => {
    writeSectorFiles(a, 't01000', 7, SECTOR_2KIB, { upgraded: true });
    expect((await checker().check('t01000', SECTOR_2KIB, [7])).checked).toEqual([{ sector: 7, problems: [], upgraded: true }]);
    rmSync(path.join(a, 'update'), { recursive: true });
    expect((await checker().check('t01000', SECTOR_2KIB, [7])).checked).toEqual([{ sector: 7, problems: ['update/s-t01000-7: missing'], upgraded: true }]);
  });

  it('a file that cannot be read, and a store that is gone, are said as such', async () => {
    const s = writeSectorFiles(a, 't01000', 1, SECTOR_2KIB);
    const failing: SectorFs = {
      stat: nodeSectorFs.stat,
      readOneByte: (p) => (p === s.sealed ? Promise.reject(Object.assign(new Error('input/output error'), { code: 'EIO' })) : nodeSectorFs.readOneByte(p)),
    };
    rmSync(b, { recursive: true });
    const r = await checker(failing).check('t01000', SECTOR_2KIB, [1]);
    expect(r.stores).toEqual([{ location: a }, { location: b, problem: 'cannot be read (ENOENT)' }]);
    expect(r.checked).toEqual([{ sector: 1, problems: ['sealed/s-t01000-1: unreadable (EIO)'] }]);
  });

  it('a store that does not answer makes the sector bad after the timeout, not the whole check hang', async () => {
    writeSectorFiles(a, 't01000', 1, SECTOR_2KIB);
    const hung: SectorFs = { stat: nodeSectorFs.stat, readOneByte: () => new Promise(() => undefined) };
    const r = await new SectorChecker({ stores: [{ location: a }], fs: hung, sectorTimeoutMs: 50 }).check('t01000', SECTOR_2KIB, [1]);
    expect(r.checked).toEqual([{ sector: 1, problems: ['no answer from the store within 50 ms (a hung mount?)'] }]);
  });

  it('a store whose stat hangs is reported and left out, the others still searched', async () => {
    writeSectorFiles(b, 't01000', 1, SECTOR_2KIB);
    const hungA: SectorFs = { stat: (p) => (p === a ? new Promise(() => undefined) : nodeSectorFs.stat(p)), readOneByte: nodeSectorFs.readOneByte };
    const r = await new SectorChecker({ stores: [{ location: a }, { location: b }], fs: hungA, sectorTimeoutMs: 50 }).check('t01000', SECTOR_2KIB, [1]);
    expect(r.stores).toEqual([{ location: a, problem: 'no answer within 50 ms (a hung mount?)' }, { location: b }]);
    expect(r.checked).toEqual([{ sector: 1, problems: [] }]);
  });

  it('runs one check at a time and refuses beyond the checks allowed to be pending', async () => {
    writeSectorFiles(a, 't01000', 1, SECTOR_2KIB);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const gated: SectorFs = {
      stat: nodeSectorFs.stat,
      readOneByte: async (p) => {
        order.push(path.basename(p));
        await gate;
        return nodeSectorFs.readOneByte(p);
      },
    };
    const c = new SectorChecker({ stores: [{ location: a }], fs: gated, maxPending: 2, concurrency: 1 });
    const first = c.check('t01000', SECTOR_2KIB, [1]);
    const second = c.check('t01000', SECTOR_2KIB, [1]);
    await expect(c.check('t01000', SECTOR_2KIB, [1])).rejects.toBeInstanceOf(CheckerBusy);
    await expect.poll(() => order.length).toBe(1);
    release();
    expect((await first).checked).toEqual([{ sector: 1, problems: [] }]);
    expect((await second).checked).toEqual([{ sector: 1, problems: [] }]);
    // Once they are done, a new check is taken again.
    expect((await c.check('t01000', SECTOR_2KIB, [1])).checked).toEqual([{ sector: 1, problems: [] }]);
  });

  it('lists at most 3 problems per sector', async () => {
    const s = writeSectorFiles(a, 'f01000', 9, SECTOR_32GIB);
    for (const f of ['p_aux', 't_aux', 'sc-02-data-tree-r-last-0.dat', 'sc-02-data-tree-r-last-1.dat']) unlinkSync(path.join(s.cache, f));
    const r = await checker().check('f01000', SECTOR_32GIB, [9]);
    expect(r.checked[0]!.problems).toEqual(['cache/s-t01000-9/p_aux: missing', 'cache/s-t01000-9/t_aux: missing', 'cache/s-t01000-9/sc-02-data-tree-r-last-0.dat: missing']);
  });
});
