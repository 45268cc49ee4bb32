// Node answers are checked before they are believed: go-bitfield JSON, dline.Info relationships.
import { describe, expect, it } from 'vitest';
import { decodeBitfield, parseDeadlineInfo, parseMinerSectorSize, parsePartitions, parseSectorLocation, parseTipSet, ShapeError } from './lotus-shapes';

const DLINE = {
  CurrentEpoch: 2_004_321,
  PeriodStart: 2_004_000,
  Index: 5,
  Open: 2_004_300,
  Close: 2_004_360,
  Challenge: 2_004_280,
  FaultCutoff: 2_004_230,
  WPoStPeriodDeadlines: 48,
  WPoStProvingPeriod: 2880,
  WPoStChallengeWindow: 60,
  WPoStChallengeLookback: 20,
  FaultDeclarationCutoff: 70,
};

describe('Lotus JSON shapes', () => {
  it("decodes go-bitfield's run lengths", () => {
    expect(decodeBitfield([0, 3, 5, 2])).toEqual([0, 1, 2, 8, 9]);
    expect(decodeBitfield([0])).toEqual([]);
    expect(decodeBitfield([])).toEqual([]);
    expect(decodeBitfield([5, 1])).toEqual([5]);
    expect(() => decodeBitfield([1, 0, 2])).toThrow(ShapeError);
    expect(() => decodeBitfield('AAEC')).toThrow(/run lengths/);
    expect(() => decodeBitfield([0, 10], 'x', 5)).toThrow(/more than 5 bits/);
  });

  it('accepts a mainnet dline.Info and refuses one whose fields disagree', () => {
    expect(parseDeadlineInfo(DLINE)).toMatchObject({ index: 5, open: 2_004_300, close: 2_004_360, periodDeadlines: 48 });
    expect(() => parseDeadlineInfo({ ...DLINE, Close: 2_004_361 })).toThrow(/Close is not Open \+ WPoStChallengeWindow/);
    expect(() => parseDeadlineInfo({ ...DLINE, WPoStProvingPeriod: 2_881 })).toThrow(/WPoStProvingPeriod/);
    expect(() => parseDeadlineInfo({ ...DLINE, Index: 48 })).toThrow(/Index/);
    expect(() => parseDeadlineInfo({ ...DLINE, Open: '2004300' })).toThrow(/Open must be an integer/);
  });

  it('reads partitions and a tipset', () => {
    const [p] = parsePartitions([{ AllSectors: [0, 3], FaultySectors: [1, 1], RecoveringSectors: [0], LiveSectors: [0, 3], ActiveSectors: [0, 1, 1, 1] }]);
    expect(p).toEqual({ all: [0, 1, 2], faulty: [1], recovering: [], live: [0, 1, 2], active: [0, 2] });
    expect(() => parsePartitions({})).toThrow(ShapeError);
    expect(parseTipSet({ Cids: [{ '/': 'bafy' }], Blocks: [{ Height: 7, Timestamp: 1_700_000_000 }], Height: 7 })).toMatchObject({ height: 7, timeMs: 1_700_000_000_000 });
    expect(() => parseTipSet({ Height: 7 })).toThrow(/TipSet/);
  });

  it('reads a SectorLocation and refuses a deadline outside the period', () => {
    expect(parseSectorLocation({ Deadline: 47, Partition: 3 }, 48)).toEqual({ deadline: 47, partition: 3 });
    expect(() => parseSectorLocation({ Deadline: 48, Partition: 0 }, 48)).toThrow(/not below WPoStPeriodDeadlines/);
    expect(() => parseSectorLocation({ Deadline: 1 }, 48)).toThrow(/Partition/);
    expect(() => parseSectorLocation([1, 2], 48)).toThrow(ShapeError);
  });
});

describe('StateMinerInfo', () => {
  it('takes the sector size of a Filecoin seal proof, nothing else', () => {
    expect(parseMinerSectorSize({ Owner: 't3abc', SectorSize: 34359738368, WindowPoStPartitionSectors: 2349 })).toBe(34359738368);
    expect(parseMinerSectorSize({ SectorSize: 2048 })).toBe(2048);
    expect(() => parseMinerSectorSize({ SectorSize: 4096 })).toThrow(/not a Filecoin sector size/);
    expect(() => parseMinerSectorSize({ SectorSize: '34359738368' })).toThrow(ShapeError);
    expect(() => parseMinerSectorSize(null)).toThrow(/MinerInfo/);
  });
});
