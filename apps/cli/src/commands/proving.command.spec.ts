// venus-sealer-style proving views from a chain-watcher reply (a 4-deadline period: deadline 1 open,
// two faulty sectors in deadline 2, one of them declared recovering).
import { describe, expect, it } from 'vitest';
import type { ProvingCheckAnswer, ProvingMinerView, ProvingSectorsView } from '@fleetvisor/contracts';
import {
  formatProvingCheck,
  formatProvingDeadline,
  formatProvingDeadlines,
  formatProvingFaults,
  formatProvingInfo,
  mergeProvingCheck,
  provingCheckBatches,
  provingDeadlinesSummary,
  provingFaultsList,
  provingInfoSummary,
  unansweredAgents,
} from './proving.command';

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

describe('proving check', () => {
  const VIEW_SECTORS: ProvingSectorsView = {
    chainId: 'simnet',
    minerId: 't01000',
    deadline: 2,
    currentEpoch: 101,
    sectorSize: 2048,
    partitions: [
      { partition: 0, sectors: [12, 13, 14], faulty: [13] },
      { partition: 1, sectors: [15], faulty: [] },
    ],
  };
  const answers: ProvingCheckAnswer[] = [
    { worker: 'w-01', stores: [{ location: '/mnt/a' }], checked: [{ sector: 12, problems: [] }, { sector: 14, problems: [] }] },
    {
      worker: 'w-02',
      stores: [{ location: '/mnt/b' }, { location: '/mnt/c', problem: 'cannot be read (ENOENT)' }],
      checked: [
        { sector: 13, problems: ['cache/s-t01000-13/p_aux: missing'] },
        { sector: 14, problems: [] },
        // Not asked: ignored.
        { sector: 99, problems: [] },
      ],
    },
  ];

  it('good where every agent holding the sector finds it whole, bad with each reason, not found where no agent has it', () => {
    const r = mergeProvingCheck(VIEW_SECTORS, answers);
    expect(r.sectors).toEqual([
      { deadline: 2, partition: 0, sector: 12, status: 'good', workers: ['w-01'], problems: [], faulty: false },
      { deadline: 2, partition: 0, sector: 13, status: 'bad', workers: ['w-02'], problems: [{ worker: 'w-02', problem: 'cache/s-t01000-13/p_aux: missing' }], faulty: true },
      { deadline: 2, partition: 0, sector: 14, status: 'good', workers: ['w-01', 'w-02'], problems: [], faulty: false },
      { deadline: 2, partition: 1, sector: 15, status: 'not_found', workers: [], problems: [], faulty: false },
    ]);
    expect(r.summary).toEqual({ sectors: 4, good: 2, bad: 1, notFound: 1 });
  });

  it('a sector one agent finds broken is bad even when another finds it whole', () => {
    const r = mergeProvingCheck(VIEW_SECTORS, [...answers, { worker: 'w-03', stores: [{ location: '/mnt/a' }], checked: [{ sector: 12, problems: ['sealed/s-t01000-12: unreadable (EIO)'] }] }]);
    expect(r.sectors[0]).toMatchObject({ sector: 12, status: 'bad', workers: ['w-01', 'w-03'], problems: [{ worker: 'w-03', problem: 'sealed/s-t01000-12: unreadable (EIO)' }] });
  });

  it("prints venus-sealer's table with the agents and their store problems; --only-bad keeps the bad and the missing", () => {
    const r = mergeProvingCheck(VIEW_SECTORS, answers);
    expect(formatProvingCheck(r)).toBe(
      [
        'Miner: t01000 (simnet), deadline 2, sector size 2 KiB',
        'Agents: w-01 (1 store), w-02 (2 stores)',
        '  w-02: store /mnt/c cannot be read (ENOENT)',
        'deadline  partition  sector  worker     status',
        '2         0          12      w-01       good',
        '2         0          13      w-02       bad (w-02: cache/s-t01000-13/p_aux: missing)',
        '2         0          14      w-01,w-02  good',
        '2         1          15      -          not found on any agent',
        '4 sectors: 2 good, 1 bad, 1 not found on any agent',
        '',
      ].join('\n'),
    );
    const bad = formatProvingCheck(r, { onlyBad: true });
    expect(bad).not.toMatch(/^2\s+0\s+12\s/m);
    expect(bad).toMatch(/^2\s+0\s+13\s+w-02\s+bad/m);
    expect(bad).toMatch(/^2\s+1\s+15\s+-\s+not found on any agent$/m);
    expect(formatProvingCheck(mergeProvingCheck(VIEW_SECTORS, []), { timeoutMs: 3000 })).toContain('Agents: none answered within 3000 ms');
  });

  it("names the registry's workers whose agent did not answer", () => {
    const r = mergeProvingCheck(VIEW_SECTORS, answers);
    const w = (name: string, expired: boolean) => ({ name, dest: `${name}:17890`, version: '1', threads: 1, empty: 0, paused: 0, running: 1, waiting: 0, errors: 0, lastPing: '2026-12-07T10:00:00.000Z', expired, draining: false });
    const unanswered = unansweredAgents([w('w-02', false), w('w-01', false), w('w-09', true), w('w-05', false)], r);
    expect(unanswered).toEqual([
      { worker: 'w-05', lastPing: '2026-12-07T10:00:00.000Z', expired: false },
      { worker: 'w-09', lastPing: '2026-12-07T10:00:00.000Z', expired: true },
    ]);
    expect(formatProvingCheck({ ...r, unanswered })).toContain(
      'Agents: w-01 (1 store), w-02 (2 stores)\nNot answering: w-05 (reporting, last report 2026-12-07T10:00:00.000Z), w-09 (silent, last report 2026-12-07T10:00:00.000Z)\n',
    );
  });

  it('asks in batches an answer fits in', () => {
    const big: ProvingSectorsView = { ...VIEW_SECTORS, partitions: [{ partition: 0, sectors: Array.from({ length: 1200 }, (_, i) => i), faulty: [] }, { partition: 1, sectors: [5000], faulty: [] }] };
    expect(provingCheckBatches(big).map((b) => b.length)).toEqual([500, 500, 201]);
    expect(provingCheckBatches(big)[2]!.at(-1)).toBe(5000);
  });
});
