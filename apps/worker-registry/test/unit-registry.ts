// The registry's use cases wired by hand over in-memory stand-ins (LocalBus, MemoryWorkerLog, a
// last-seen table and sector index in maps), for unit tests without Nest, Postgres or NATS.
import { WorkerReportCommand } from '@fleetvisor/contracts';
import { createLogger } from '@fleetvisor/platform';
import { LiveWorkers } from '../src/registry/live-workers';
import { WorkerControl } from '../src/registry/worker-control';
import { WorkerLiveness, type LastSeenStore } from '../src/registry/worker-liveness';
import { WorkerQueries, type SectorIndex } from '../src/registry/worker-queries';
import { WorkerRecorder } from '../src/registry/worker-recorder';
import { WorkerReports } from '../src/registry/worker-reports';
import { AgentStandIn } from './agent-stand-in';
import { LocalBus } from './local-bus';
import { MemoryWorkerLog } from './memory-worker-log';

export class MemoryTables implements LastSeenStore, SectorIndex {
  readonly lastSeen = new Map<string, number>();
  /** Workers whose rows do not exist yet (flushLastSeen hands them back). */
  readonly missing = new Set<string>();
  readonly sectors = new Map<string, { worker: string; index: number }[]>();
  failNext = false;

  async flushLastSeen(seen: ReadonlyMap<string, number>): Promise<string[]> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('database unavailable');
    }
    const notYet: string[] = [];
    for (const [n, t] of seen) {
      if (this.missing.has(n)) notYet.push(n);
      else this.lastSeen.set(n, t);
    }
    return notYet;
  }

  async workersOfSector(sectorId: string): Promise<{ worker: string; index: number }[]> {
    return this.sectors.get(sectorId) ?? [];
  }
}

export interface UnitRegistry {
  now: { ms: number };
  bus: LocalBus;
  log: MemoryWorkerLog;
  tables: MemoryTables;
  live: LiveWorkers;
  recorder: WorkerRecorder;
  reports: WorkerReports;
  control: WorkerControl;
  queries: WorkerQueries;
  liveness: WorkerLiveness;
  /** An agent stand-in on the bus, whose reports go to `reports`. */
  agent(name: string, threads: number, dest?: string): Promise<AgentStandIn>;
}

export const EXPIRATION_MS = 60_000;

export function unitRegistry(): UnitRegistry {
  const now = { ms: Date.parse('2026-12-01T00:00:00.000Z') };
  const clock = () => now.ms;
  const logger = createLogger({ name: 'worker-registry-test', level: 'silent', format: 'json' });
  const bus = new LocalBus();
  const log = new MemoryWorkerLog();
  const tables = new MemoryTables();
  const live = new LiveWorkers();
  const recorder = new WorkerRecorder(log, live, logger);
  const reports = new WorkerReports(live, recorder, { host: 'test-host', clock });
  const control = new WorkerControl(live, recorder, bus.asBus(), log, { host: 'test-host', agentTimeoutMs: 1_000, clock });
  const queries = new WorkerQueries(live, log, tables, { expirationMs: EXPIRATION_MS, clock });
  const liveness = new WorkerLiveness(
    live,
    recorder,
    tables,
    { host: 'test-host', expirationMs: EXPIRATION_MS, expiryCheckIntervalMs: 60_000, lastSeenFlushIntervalMs: 60_000, clock },
    logger,
  );
  bus.serve(WorkerReportCommand, async (r) => reports.report(r as never), { scoped: true });
  let n = 0;
  const agent = async (name: string, threads: number, dest = `10.0.0.${++n}:17890`): Promise<AgentStandIn> => {
    const a = new AgentStandIn(bus.asBus(), name, dest, threads);
    await a.serve();
    return a;
  };
  return { now, bus, log, tables, live, recorder, reports, control, queries, liveness, agent };
}
