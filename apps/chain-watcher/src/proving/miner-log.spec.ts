// What an observation means against the miner's recorded history: each fact once.
import { describe, expect, it } from 'vitest';
import { fleetEvents } from '@fleetvisor/contracts';
import type { PartitionState } from './lotus-shapes';
import { decideAtRisk, decideFaults, decideMissed, emptyMinerLog, evolveMinerLog, type MinerLogState } from './miner-log';

const obs = { chainId: 'calibnet', minerId: 't01000', epoch: 500, timeMs: 1_700_000_000_000, metadata: { host: 'cw-a' } };
const W = { deadline: 2, periodStart: 400, open: 480, close: 540 };
const part = (all: number[], faulty: number[] = [], recovering: number[] = []): PartitionState => ({ all, live: all, faulty, recovering, active: all.filter((s) => !faulty.includes(s)) });
const fold = (events: { type: string; data: unknown }[], s: MinerLogState = emptyMinerLog()) => events.reduce(evolveMinerLog, s);
const place = (s: number) => ({ deadline: Math.floor(s / 10), partition: s % 10 >= 5 ? 1 : 0 });

describe('miner log decisions', () => {
  it('new faults once per partition, recoveries of recorded faults, unplaced faults left for later', () => {
    const first = decideFaults(emptyMinerLog(), obs, [21, 22, 26, 99], (s) => (s === 99 ? undefined : place(s)));
    expect(first.unplaced).toEqual([99]);
    expect(first.events.map((e) => [e.type, e.data])).toEqual([
      ['SectorsFaulted', { chainId: 'calibnet', minerId: 't01000', deadline: 2, partition: 0, sectors: [21, 22], epoch: 500 }],
      ['SectorsFaulted', { chainId: 'calibnet', minerId: 't01000', deadline: 2, partition: 1, sectors: [26], epoch: 500 }],
    ]);
    for (const e of first.events) expect(fleetEvents.parse(e).ok).toBe(true);
    const state = fold(first.events);
    // Seen again: nothing. 22 gone: recovered.
    expect(decideFaults(state, { ...obs, epoch: 501 }, [21, 22, 26], place).events).toEqual([]);
    const later = decideFaults(state, { ...obs, epoch: 502 }, [21, 26], place);
    expect(later.events.map((e) => [e.type, (e.data as { sectors: number[] }).sectors])).toEqual([['SectorsRecovered', [22]]]);
  });

  it('derives the same id for the same fact', () => {
    const a = decideFaults(emptyMinerLog(), obs, [21], place).events[0]!;
    const b = decideFaults(emptyMinerLog(), obs, [21], place).events[0]!;
    expect(a.id).toBe(b.id);
    expect(decideFaults(emptyMinerLog(), { ...obs, epoch: 501 }, [21], place).events[0]!.id).not.toBe(a.id);
  });

  it('a deadline opening with faults not declared recovering is at risk, once', () => {
    const parts = [part([20, 21, 22], [21, 22], [22]), part([25, 26])];
    const events = decideAtRisk(emptyMinerLog(), obs, W, parts);
    expect(events.map((e) => e.data)).toEqual([{ chainId: 'calibnet', minerId: 't01000', ...W, partitions: [{ partition: 0, sectors: [21] }], epoch: 500 }]);
    expect(decideAtRisk(fold(events), obs, W, parts)).toEqual([]);
    expect(decideAtRisk(emptyMinerLog(), obs, W, [part([20, 21], [21], [21])])).toEqual([]);
  });

  it('a closed deadline is missed for partitions without a PoSt whose live sectors are all faulty, once', () => {
    const after = [part([20, 21], [20, 21]), part([25, 26]), part([])];
    const events = decideMissed(emptyMinerLog(), obs, W, after, [1]);
    expect(events.map((e) => e.data)).toEqual([{ chainId: 'calibnet', minerId: 't01000', ...W, partitions: [0], provenPartitions: 1, epoch: 500 }]);
    expect(decideMissed(fold(events), obs, W, after, [1])).toEqual([]);
    // A PoSt seen for partition 0: not missed, whatever its faults.
    expect(decideMissed(emptyMinerLog(), obs, W, after, [0, 1])).toEqual([]);
    // Unproven in the last epoch after the watcher's read, yet not all faulty: it was proven.
    expect(decideMissed(emptyMinerLog(), obs, W, [part([20, 21], [20])], [])).toEqual([]);
  });
});
