// Where a sector's files live in a sector store, as damocles and lotus lay them out
// (damocles-worker sealing/paths.rs, damocles-manager util.SectorPath, lotus storiface):
//   sealed/s-t0<actor>-<number>          the replica, exactly the sector size
//   cache/s-t0<actor>-<number>/          p_aux, t_aux and the tree-r-last file(s)
//   update/…, update-cache/…             the same for a snap-upgraded sector
// The cache files a Window PoSt reads are those lotus' CheckProvable (addCachePathsForSectorSize)
// and damocles' tracker (util.CachedFilesForSectorSize) look for: one sc-02-data-tree-r-last.dat up
// to 512 MiB sectors, 8 of them (-0 … -7) for 32 GiB, 16 for 64 GiB.

/** Sector sizes of the Filecoin seal proofs. */
export const KiB = 1024;
export const SECTOR_2KIB = 2 * KiB;
export const SECTOR_8MIB = 8 * KiB ** 2;
export const SECTOR_512MIB = 512 * KiB ** 2;
export const SECTOR_32GIB = 32 * KiB ** 3;
export const SECTOR_64GIB = 64 * KiB ** 3;

/**
 * The sector's name in a store: `s-t0<actor>-<number>`, the actor id as a plain decimal (damocles
 * formats "s-t0%d-%d" with the id number: t01000 and f01000 name the same files, f0001 is s-t01).
 */
export function sectorFileName(minerId: string, sector: number): string {
  const m = /^[ft]0([0-9]{1,20})$/.exec(minerId);
  if (!m) throw new Error(`not a miner ID address: ${minerId}`);
  return `s-t0${BigInt(m[1]!).toString()}-${sector}`;
}

/** The tree-r-last files of a sector of this size; undefined for a size no seal proof has (those files are then not checked, as lotus does). */
export function treeRLastFiles(sectorSize: number): string[] | undefined {
  switch (sectorSize) {
    case SECTOR_2KIB:
    case SECTOR_8MIB:
    case SECTOR_512MIB:
      return ['sc-02-data-tree-r-last.dat'];
    case SECTOR_32GIB:
      return Array.from({ length: 8 }, (_, i) => `sc-02-data-tree-r-last-${i}.dat`);
    case SECTOR_64GIB:
      return Array.from({ length: 16 }, (_, i) => `sc-02-data-tree-r-last-${i}.dat`);
    default:
      return undefined;
  }
}

/** The files of a sector's cache directory a Window PoSt needs. */
export function cacheFiles(sectorSize: number): string[] {
  return ['p_aux', 't_aux', ...(treeRLastFiles(sectorSize) ?? [])];
}

export interface SectorPaths {
  /** Relative to a store: the sealed (or updated) replica. */
  sealed: string;
  /** Relative to a store: the cache (or update-cache) directory. */
  cache: string;
  upgraded: boolean;
}

export function sectorPaths(minerId: string, sector: number, upgraded: boolean): SectorPaths {
  const name = sectorFileName(minerId, sector);
  return upgraded ? { sealed: `update/${name}`, cache: `update-cache/${name}`, upgraded } : { sealed: `sealed/${name}`, cache: `cache/${name}`, upgraded };
}
