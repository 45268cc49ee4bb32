// WorkerTables: the registry's reads and writes of its projection tables outside the projection
// runner (last-seen times, the sector index), over the pg pool.
import type { Pool } from 'pg';
import type { SectorIndex } from '../registry/worker-queries';
import type { LastSeenStore } from '../registry/worker-liveness';
import { flushLastSeen, workersOfSector } from './worker-projection';

export class WorkerTables implements LastSeenStore, SectorIndex {
  constructor(private readonly pool: Pool) {}

  flushLastSeen(seen: ReadonlyMap<string, number>): Promise<string[]> {
    return flushLastSeen(this.pool, seen);
  }

  workersOfSector(sectorId: string): Promise<{ worker: string; index: number }[]> {
    return workersOfSector(this.pool, sectorId);
  }
}
