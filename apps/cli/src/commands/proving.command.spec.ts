// venus-sealer-style proving views from a chain-watcher reply (a 4-deadline period: deadline 1 open,
// two faulty sectors in deadline 2, one of them declared recovering).
import { describe, expect, it } from 'vitest';
import type { ProvingMinerView } from '@fleetvisor/contracts';
import { formatProvingDeadline, formatProvingDeadlines, formatProvingFaults, formatProvingInfo, provingDeadlinesSummary, provingFaultsList, provingInfoSummary } from './proving.command';

const part = (partition: number, faulty: number[] = [], recovering: number[] = []) => ({ partition, sectors: 3, active: 3 - faulty.length, faulty, recovering });
const VIEW: ProvingMinerView = {
  chainId: 'simnet',
  minerId: 't01000',
  currentEpoch: 101,
  periodStart: 96,
  deadlineIndex: 1,
  open: 100,
  close: 104,
  challenge: 98,
  faultCutoff: 97,
  periodDeadlines: 4,
  provingPeriod: 16,
  challengeWindow: 4,
  deadlines: [
    { index: 0, partitions: [part(0), part(1)], provenPartitions: [] },
    { index: 1, partitions: [part(0), part(1)], provenPartitions: [0, 1] },
    { index: 2, partitions: [part(0, [12, 13], [13]), part(1)], provenPartitions: [] },
    { index: 3, partitions: [], provenPartitions: [] },
  ],
};

describe('proving views', () => {
  it('info: epochs of the period and the open deadline, sector, fault and recovery counts', () => {
    expect(provingInfoSummary(VIEW)).toMatchObject({ periodBoundary: 0, periodStart: 96, nextPeriodStart: 112, sectors: 18, faults: 2, recovering: 1, deadlineIndex: 1, deadlineSectors: 6 });
    const text = formatProvingInfo(VIEW);
    expect(text).toContain('Current Epoch:           101\n');
    expect(text).toContain('Proving Period Start:    96 (5 epochs ago)\n');
    expect(text).toContain('Next Period Start:       112 (in 11 epochs)\n');
    expect(text).toContain('Faults:      2 (11.11%)\n');
    expect(text).toContain('Recovering:  1\n');
    expect(text).toContain('Deadline Close:       104 (in 3 epochs)\n');
    expect(text).toContain('Deadline FaultCutoff: 97 (4 epochs ago)\n');
  });

  it('deadlines: one row each, the current marked, deadlines already passed at their next opening', () => {
    expect(provingDeadlinesSummary(VIEW)[0]).toEqual({ deadline: 0, open: 112, partitions: 2, sectors: 6, faults: 0, provenPartitions: 0, current: false });
    expect(formatProvingDeadlines(VIEW)).toBe(
      [
        'Miner: t01000 (simnet)',
        'deadline     open  partitions  sectors (faults)  proven partitions',
        '0            112   2           6 (0)             0',
        '1 (current)  100   2           6 (0)             2',
        '2            104   2           6 (2)             0',
        '3            108   0           0 (0)             0',
        '',
      ].join('\n'),
    );
  });

  it('deadline N: partitions with their faulty and recovering sectors', () => {
    const text = formatProvingDeadline(VIEW, 2);
    expect(text).toContain('Partitions:               2\n');
    expect(text).toContain('Current:                  false\n');
    expect(text).toContain('Partition Index:        0\n  Sectors:              3\n  Faults:               2\n  Faulty Sectors:       12 13\n  Recovering Sectors:   13\n');
  });

  it('faults: every faulty sector with its place', () => {
    expect(provingFaultsList(VIEW)).toEqual([
      { deadline: 2, partition: 0, sector: 12, recovering: false },
      { deadline: 2, partition: 0, sector: 13, recovering: true },
    ]);
    expect(formatProvingFaults(VIEW)).toBe(['Miner: t01000 (simnet)', 'deadline  partition  sectorId  recovering', '2         0          12        no', '2         0          13        yes', ''].join('\n'));
  });
});
