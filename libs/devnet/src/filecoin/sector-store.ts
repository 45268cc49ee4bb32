// A simulated sector store on disk, as damocles-worker and lotus leave one after sealing:
// sealed/s-t0<actor>-<n> (the replica, exactly the sector size; written sparse, so a 32 GiB one
// costs nothing) and cache/s-t0<actor>-<n>/ with p_aux, t_aux and the tree-r-last file(s) a Window
// PoSt reads (one up to 512 MiB sectors, 8 for 32 GiB, 16 for 64 GiB). For `proving check` tests.
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface SectorFilesOptions {
  /** Write the snap-upgraded layout (update/, update-cache/) instead. */
  upgraded?: boolean;
}

/** Writes one sector's files into `store`; returns the sealed file and the cache directory (absolute). */
export function writeSectorFiles(store: string, minerId: string, sector: number, sectorSize: number, opts: SectorFilesOptions = {}): { sealed: string; cache: string } {
  const m = /^[ft]0([0-9]{1,20})$/.exec(minerId);
  if (!m) throw new Error(`not a miner ID address: ${minerId}`);
  const name = `s-t0${BigInt(m[1]!).toString()}-${sector}`;
  const sealed = path.join(store, opts.upgraded ? 'update' : 'sealed', name);
  const cache = path.join(store, opts.upgraded ? 'update-cache' : 'cache', name);
  mkdirSync(path.dirname(sealed), { recursive: true });
  mkdirSync(cache, { recursive: true });
  writeFileSync(sealed, Buffer.from([0x5a]));
  truncateSync(sealed, sectorSize);
  const trees = sectorSize === 32 * 1024 ** 3 ? 8 : sectorSize === 64 * 1024 ** 3 ? 16 : 1;
  const files = ['p_aux', 't_aux', ...(trees === 1 ? ['sc-02-data-tree-r-last.dat'] : Array.from({ length: trees }, (_, i) => `sc-02-data-tree-r-last-${i}.dat`))];
  for (const f of files) writeFileSync(path.join(cache, f), Buffer.from(`${f} of ${name}\n`));
  return { sealed, cache };
}
