// The sector-file check behind `fleetvisor proving check`: for a miner's sectors, look in every
// sector store this agent sees, and for each sector found say what a Window PoSt would trip over:
// a missing sealed file or cache file, one that cannot be read, a sealed file that is not exactly
// the sector size (lotus' CheckProvable and damocles' tracker check the same files, the same way).
// Nothing is read beyond one byte per file: sealed files are 32 or 64 GiB, and a stat plus one byte
// read proves the file is there and the storage under it answers.
//
// A sector is "found" by an agent when its sealed file or its cache directory is in one of its
// stores; a sector with neither is not in the answer (another agent may hold it). A sector with an
// update/ or update-cache/ entry is checked as snap-upgraded (the replica a PoSt reads is then the
// updated one). The sealed file and the cache directory may be in different stores (damocles'
// sector index records a store for each).
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { MAX_PROBLEMS_PER_SECTOR, type ProvingCheckAnswer, type ProvingCheckSector } from '@fleetvisor/contracts';
import { cacheFiles, sectorPaths, type SectorPaths } from './sector-layout';

/** What the checker asks of the file system (the seam tests use to fail a read). */
export interface SectorFs {
  /** stat(2); rejects with the errno error (code ENOENT, EACCES, EIO …). */
  stat(p: string): Promise<{ size: number; isFile(): boolean; isDirectory(): boolean }>;
  /** Reads one byte at offset 0; resolves how many bytes were read (0 for an empty file). */
  readOneByte(p: string): Promise<number>;
}

export const nodeSectorFs: SectorFs = {
  stat: (p) => stat(p),
  async readOneByte(p) {
    const fh = await open(p, constants.O_RDONLY);
    try {
      const { bytesRead } = await fh.read(Buffer.alloc(1), 0, 1, 0);
      return bytesRead;
    } finally {
      await fh.close();
    }
  },
};

export interface SectorStore {
  /** Absolute directory holding sealed/, cache/ (and update/, update-cache/). */
  location: string;
}

export interface SectorCheckerOptions {
  stores: readonly SectorStore[];
  fs?: SectorFs;
  /** Longest one sector's check may take (a hung NFS mount): the sector is then reported with that problem. */
  sectorTimeoutMs?: number;
  /** Sectors checked at once. */
  concurrency?: number;
  /** Checks in progress or queued at most (default 16). */
  maxPending?: number;
}

export class CheckerBusy extends Error {
  override name = 'CheckerBusy';
  constructor(pending: number) {
    super(`busy: ${pending} sector checks in progress or waiting`);
  }
}

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? String(e);
const clip = (s: string) => (s.length <= 240 ? s : `${s.slice(0, 237)}...`);

export class SectorChecker {
  private readonly fs: SectorFs;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  /** One check at a time per agent: a second request waits for the first (each is bounded in size). */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  constructor(private readonly opts: SectorCheckerOptions) {
    this.fs = opts.fs ?? nodeSectorFs;
    this.timeoutMs = opts.sectorTimeoutMs ?? 10_000;
    this.concurrency = Math.max(1, opts.concurrency ?? 16);
  }

  get stores(): readonly SectorStore[] {
    return this.opts.stores;
  }

  /**
   * The check of `sectors` (answer order = request order), serialized with any other in progress.
   * With `maxPending` checks in progress or queued it refuses (CheckerBusy): a flood of requests
   * must not pile up work and memory on a sealing host.
   */
  check(minerId: string, sectorSize: number, sectors: readonly number[]): Promise<Omit<ProvingCheckAnswer, 'worker'>> {
    if (this.pending >= (this.opts.maxPending ?? 16)) return Promise.reject(new CheckerBusy(this.pending));
    this.pending++;
    const run = this.queue.then(() => this.run(minerId, sectorSize, sectors)).finally(() => this.pending--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(minerId: string, sectorSize: number, sectors: readonly number[]): Promise<Omit<ProvingCheckAnswer, 'worker'>> {
    const stores = await Promise.all(this.opts.stores.map((s) => this.storeState(s)));
    const readable = this.opts.stores.filter((_, i) => stores[i]!.problem === undefined);
    const results: (ProvingCheckSector | undefined)[] = new Array(sectors.length);
    let next = 0;
    const worker = async () => {
      while (next < sectors.length) {
        const i = next++;
        results[i] = await this.withTimeout(sectors[i]!, this.sector(readable, minerId, sectorSize, sectors[i]!));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, sectors.length) }, worker));
    return { stores, checked: results.filter((r): r is ProvingCheckSector => r !== undefined) };
  }

  /** Whether the store answers, within the sector timeout: a hung mount is left out of the search, not waited on per sector. */
  private async storeState(s: SectorStore): Promise<{ location: string; problem?: string }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<{ location: string; problem: string }>((resolve) => {
      timer = setTimeout(() => resolve({ location: s.location, problem: `no answer within ${this.timeoutMs} ms (a hung mount?)` }), this.timeoutMs);
    });
    try {
      return await Promise.race([this.storeStat(s), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async storeStat(s: SectorStore): Promise<{ location: string; problem?: string }> {
    try {
      const st = await this.fs.stat(s.location);
      return st.isDirectory() ? { location: s.location } : { location: s.location, problem: 'not a directory' };
    } catch (e) {
      return { location: s.location, problem: clip(`cannot be read (${errCode(e)})`) };
    }
  }

  private async withTimeout(sector: number, work: Promise<ProvingCheckSector | undefined>): Promise<ProvingCheckSector | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ProvingCheckSector>((resolve) => {
      timer = setTimeout(() => resolve({ sector, problems: [`no answer from the store within ${this.timeoutMs} ms (a hung mount?)`] }), this.timeoutMs);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The first store (in configured order) where `rel` exists, with its stat; undefined when none has it. */
  private async locate(stores: readonly SectorStore[], rel: string): Promise<{ full: string; st: Awaited<ReturnType<SectorFs['stat']>> } | { full: string; error: string } | undefined> {
    for (const s of stores) {
      const full = path.join(s.location, rel);
      try {
        return { full, st: await this.fs.stat(full) };
      } catch (e) {
        const code = errCode(e);
        // ENOENT / ENOTDIR: not in this store. Anything else: it may be there, and cannot be read.
        if (code !== 'ENOENT' && code !== 'ENOTDIR') return { full, error: code };
      }
    }
    return undefined;
  }

  private async sector(stores: readonly SectorStore[], minerId: string, sectorSize: number, sector: number): Promise<ProvingCheckSector | undefined> {
    const upgraded = (await this.locate(stores, sectorPaths(minerId, sector, true).sealed)) !== undefined || (await this.locate(stores, sectorPaths(minerId, sector, true).cache)) !== undefined;
    const paths = sectorPaths(minerId, sector, upgraded);
    const sealed = await this.locate(stores, paths.sealed);
    const cache = await this.locate(stores, paths.cache);
    if (!sealed && !cache) return undefined;
    const problems: string[] = [];
    const add = (rel: string, why: string) => {
      if (problems.length < MAX_PROBLEMS_PER_SECTOR) problems.push(clip(`${rel}: ${why}`));
    };
    if (!sealed) add(paths.sealed, 'missing');
    else if ('error' in sealed) add(paths.sealed, `cannot be read (${sealed.error})`);
    else if (!sealed.st.isFile()) add(paths.sealed, 'not a file');
    else if (sealed.st.size !== sectorSize) add(paths.sealed, `wrong size (got ${sealed.st.size}, expect ${sectorSize})`);
    else await this.readable(sealed.full, paths.sealed, add);
    await this.cacheProblems(cache, paths, sectorSize, add);
    return { sector, problems, ...(upgraded ? { upgraded: true } : {}) };
  }

  private async cacheProblems(cache: Awaited<ReturnType<SectorChecker['locate']>>, paths: SectorPaths, sectorSize: number, add: (rel: string, why: string) => void): Promise<void> {
    if (!cache) return add(paths.cache, 'missing');
    if ('error' in cache) return add(paths.cache, `cannot be read (${cache.error})`);
    if (!cache.st.isDirectory()) return add(paths.cache, 'not a directory');
    for (const f of cacheFiles(sectorSize)) {
      const rel = `${paths.cache}/${f}`;
      const full = path.join(cache.full, f);
      let st: Awaited<ReturnType<SectorFs['stat']>>;
      try {
        st = await this.fs.stat(full);
      } catch (e) {
        const code = errCode(e);
        add(rel, code === 'ENOENT' ? 'missing' : `cannot be read (${code})`);
        continue;
      }
      if (!st.isFile()) add(rel, 'not a file');
      else if (st.size === 0) add(rel, 'empty');
      else await this.readable(full, rel, add);
    }
  }

  private async readable(full: string, rel: string, add: (rel: string, why: string) => void): Promise<void> {
    try {
      if ((await this.fs.readOneByte(full)) === 0) add(rel, 'empty');
    } catch (e) {
      add(rel, `unreadable (${errCode(e)})`);
    }
  }
}
