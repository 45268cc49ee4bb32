// What the log says about one miner (stream miner-<minerId>), and what a new observation of the
// chain means for it. The watcher keeps no state of its own beyond a cache: after a restart or a
// failover it folds the stream again, so a fault, a recovery, a missed window or a deadline at risk
// already recorded is never recorded twice, and one that happened while nobody watched is recorded
// at the epoch it is first seen.
import {
  deterministicEventId,
  newEventFor,
  ProvingDeadlineAtRisk,
  SectorsFaulted,
  SectorsRecovered,
  streamName,
  WindowPoStMissed,
  type EventData,
  type EventEnvelope,
  type EventMetadata,
} from '@fleetvisor/contracts';
import type { PartitionState } from './lotus-shapes';

export interface SectorPlace {
  deadline: number;
  partition: number;
}

export interface MinerLogState {
  /** Faulty sectors as recorded (SectorsFaulted minus SectorsRecovered), with their partition. */
  faulty: Map<number, SectorPlace>;
  /** `${deadline}@${open}` of every window recorded as missed. */
  missed: Set<string>;
  /** `${deadline}@${open}` of every window recorded as opened at risk. */
  atRisk: Set<string>;
}

export const minerStream = (minerId: string): string => streamName('miner', minerId);
export const windowKey = (deadline: number, open: number): string => `${deadline}@${open}`;
export const emptyMinerLog = (): MinerLogState => ({ faulty: new Map(), missed: new Set(), atRisk: new Set() });

/** The state after one more event; the state given is left as it was. */
export function evolveMinerLog(state: MinerLogState, event: Pick<EventEnvelope, 'type' | 'data'>): MinerLogState {
  switch (event.type) {
    case SectorsFaulted.type: {
      const d = event.data as EventData<typeof SectorsFaulted>;
      const faulty = new Map(state.faulty);
      for (const s of d.sectors) faulty.set(s, { deadline: d.deadline, partition: d.partition });
      return { ...state, faulty };
    }
    case SectorsRecovered.type: {
      const d = event.data as EventData<typeof SectorsRecovered>;
      const faulty = new Map(state.faulty);
      for (const s of d.sectors) faulty.delete(s);
      return { ...state, faulty };
    }
    case WindowPoStMissed.type: {
      const d = event.data as EventData<typeof WindowPoStMissed>;
      return { ...state, missed: new Set(state.missed).add(windowKey(d.deadline, d.open)) };
    }
    case ProvingDeadlineAtRisk.type: {
      const d = event.data as EventData<typeof ProvingDeadlineAtRisk>;
      return { ...state, atRisk: new Set(state.atRisk).add(windowKey(d.deadline, d.open)) };
    }
    default:
      return state;
  }
}

/** Where and when the chain was looked at. */
export interface ProvingObservation {
  chainId: string;
  minerId: string;
  epoch: number;
  /** Block time of the epoch (ms): the time part of derived event ids, the same on every replica. */
  timeMs: number;
  metadata: EventMetadata;
}

const MAX_SECTORS = 2_349;

function chunks(xs: number[]): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < xs.length; i += MAX_SECTORS) out.push(xs.slice(i, i + MAX_SECTORS));
  return out;
}

function derived<T extends EventEnvelope>(e: T, obs: ProvingObservation, key: string): T {
  // The same fact seen twice (two replicas during a failover, a retried append) gets the same id,
  // which the log's id idempotency drops.
  return { ...e, id: deterministicEventId(obs.timeMs, `${e.type}/${obs.chainId}/${obs.minerId}/${key}`) };
}

/**
 * Faults and recoveries: the miner's faulty sectors now (StateMinerFaults) against the recorded
 * ones. New faults need their partition (`locate`); a sector it cannot place is left for later
 * (returned in `unplaced`) rather than recorded in the wrong partition.
 */
export function decideFaults(
  state: MinerLogState,
  obs: ProvingObservation,
  faultsNow: readonly number[],
  locate: (sector: number) => SectorPlace | undefined,
): { events: EventEnvelope[]; unplaced: number[] } {
  const now = new Set(faultsNow);
  const faulted = new Map<string, number[]>();
  const recovered = new Map<string, number[]>();
  const unplaced: number[] = [];
  const add = (m: Map<string, number[]>, p: SectorPlace, s: number) => {
    const k = `${p.deadline}/${p.partition}`;
    m.set(k, [...(m.get(k) ?? []), s]);
  };
  for (const s of now) {
    if (state.faulty.has(s)) continue;
    const place = locate(s);
    if (place) add(faulted, place, s);
    else unplaced.push(s);
  }
  for (const [s, place] of state.faulty) if (!now.has(s)) add(recovered, place, s);
  const events: EventEnvelope[] = [];
  const emit = (def: typeof SectorsFaulted | typeof SectorsRecovered, m: Map<string, number[]>) => {
    for (const [k, sectors] of [...m].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
      const [deadline, partition] = k.split('/').map(Number) as [number, number];
      for (const part of chunks(sectors.sort((a, b) => a - b))) {
        const data = { chainId: obs.chainId, minerId: obs.minerId, deadline, partition, sectors: part, epoch: obs.epoch };
        events.push(derived(newEventFor(def, data, obs.metadata), obs, `${k}/${obs.epoch}/${part[0]}`));
      }
    }
  };
  emit(SectorsFaulted, faulted);
  emit(SectorsRecovered, recovered);
  return { events, unplaced };
}

export interface WindowRef {
  deadline: number;
  periodStart: number;
  open: number;
  close: number;
}

/**
 * A deadline that just opened: at risk when a partition holds faulty sectors not declared
 * recovering (they cannot be proven in this window). Once per window.
 */
export function decideAtRisk(state: MinerLogState, obs: ProvingObservation, w: WindowRef, partitions: readonly PartitionState[]): EventEnvelope[] {
  if (state.atRisk.has(windowKey(w.deadline, w.open))) return [];
  const risky = partitions
    .map((p, partition) => {
      const recovering = new Set(p.recovering);
      return { partition, sectors: p.faulty.filter((s) => !recovering.has(s)).slice(0, MAX_SECTORS) };
    })
    .filter((p) => p.sectors.length > 0)
    .slice(0, 3_000);
  if (risky.length === 0) return [];
  const data = { chainId: obs.chainId, minerId: obs.minerId, deadline: w.deadline, periodStart: w.periodStart, open: w.open, close: w.close, partitions: risky, epoch: obs.epoch };
  return [derived(newEventFor(ProvingDeadlineAtRisk, data, obs.metadata), obs, windowKey(w.deadline, w.open))];
}

/**
 * A deadline that closed: a partition with live sectors is missed when no PoSt was seen for it
 * while the window was open (`posted`: PostSubmissions as last read in the window; undefined when
 * the watcher did not see the window) and all its live sectors are faulty after the close (the
 * actor marks an unproven partition's sectors faulty at the deadline's end: this also covers a
 * PoSt landing in the window's last epoch, after the watcher's last read). Once per window.
 */
export function decideMissed(state: MinerLogState, obs: ProvingObservation, w: WindowRef, after: readonly PartitionState[], posted: readonly number[] | undefined): EventEnvelope[] {
  if (state.missed.has(windowKey(w.deadline, w.open))) return [];
  const proven = new Set(posted ?? []);
  const missed: number[] = [];
  let withSectors = 0;
  after.forEach((p, i) => {
    if (p.live.length === 0) return;
    withSectors++;
    const faulty = new Set(p.faulty);
    if (!proven.has(i) && p.live.every((s) => faulty.has(s))) missed.push(i);
  });
  if (missed.length === 0) return [];
  const data = {
    chainId: obs.chainId,
    minerId: obs.minerId,
    deadline: w.deadline,
    periodStart: w.periodStart,
    open: w.open,
    close: w.close,
    partitions: missed.slice(0, 3_000),
    provenPartitions: Math.min(3_000, withSectors - missed.length),
    epoch: obs.epoch,
  };
  return [derived(newEventFor(WindowPoStMissed, data, obs.metadata), obs, windowKey(w.deadline, w.open))];
}
