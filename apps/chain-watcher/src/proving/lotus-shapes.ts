// The Lotus/venus JSON-RPC answers the proving watch reads, checked before anything is believed: a
// node is outside our trust boundary, and a malformed answer must become an error, never an event.
// Shapes (lotus api, go-state-types dline.Info, go-bitfield JSON):
//   ChainHead                  -> TipSet {Cids: [{"/": cid}], Blocks: [{Height, Timestamp, …}], Height}
//   StateMinerProvingDeadline  -> dline.Info {CurrentEpoch, PeriodStart, Index, Open, Close, Challenge,
//                                 FaultCutoff, WPoStPeriodDeadlines, WPoStProvingPeriod,
//                                 WPoStChallengeWindow, WPoStChallengeLookback, FaultDeclarationCutoff}
//   StateMinerPartitions       -> [{AllSectors, FaultySectors, RecoveringSectors, LiveSectors, ActiveSectors}]
//   StateMinerDeadlines        -> [{PostSubmissions, DisputableProofCount}]
//   StateMinerFaults / StateMinerRecoveries -> bitfield
//   StateSectorPartition       -> miner.SectorLocation {Deadline, Partition}
// A bitfield is go-bitfield's JSON: run lengths starting with a run of absent bits ([0, 3, 5, 2] is
// {0, 1, 2, 8, 9}; [0] or [] is empty); only the first run may be 0.

export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Bits a decoded bitfield may hold: a miner's sectors fit far below (mainnet's largest hold ~10^6). */
export const MAX_BITFIELD_BITS = 5_000_000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const epochOf = (v: unknown, what: string, min = 0): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new ShapeError(`${what} must be an integer >= ${min}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
};

/** The set bits of a JSON bitfield, ascending. */
export function decodeBitfield(v: unknown, what = 'bitfield', maxBits = MAX_BITFIELD_BITS): number[] {
  if (v === null) return [];
  if (!Array.isArray(v)) throw new ShapeError(`${what} must be an array of run lengths`);
  const out: number[] = [];
  let at = 0;
  v.forEach((len, i) => {
    if (typeof len !== 'number' || !Number.isSafeInteger(len) || len < 0) throw new ShapeError(`${what}[${i}] is not a run length`);
    if (len === 0 && i !== 0) throw new ShapeError(`${what}[${i}]: only the first run may be empty`);
    if (i % 2 === 1) {
      if (out.length + len > maxBits) throw new ShapeError(`${what} holds more than ${maxBits} bits`);
      for (let k = 0; k < len; k++) out.push(at + k);
    }
    at += len;
    if (!Number.isSafeInteger(at)) throw new ShapeError(`${what} overflows`);
  });
  return out;
}

export interface TipSetHead {
  height: number;
  /** Block time in ms (the first block's Timestamp), for derived event ids. */
  timeMs: number;
  key: unknown[];
}

export function parseTipSet(v: unknown): TipSetHead {
  if (!isObj(v) || !Array.isArray(v['Cids']) || !Array.isArray(v['Blocks'])) throw new ShapeError('ChainHead: expected a TipSet {Cids, Blocks, Height}');
  const height = epochOf(v['Height'], 'ChainHead Height');
  const first = v['Blocks'][0];
  const ts = isObj(first) && typeof first['Timestamp'] === 'number' ? first['Timestamp'] : 0;
  return { height, timeMs: Number.isSafeInteger(ts) && ts > 0 ? ts * 1000 : 0, key: v['Cids'] };
}

export interface DeadlineInfo {
  currentEpoch: number;
  periodStart: number;
  index: number;
  open: number;
  close: number;
  challenge: number;
  faultCutoff: number;
  periodDeadlines: number;
  provingPeriod: number;
  challengeWindow: number;
  challengeLookback: number;
  faultDeclarationCutoff: number;
}

/** dline.Info, with Filecoin's relationships between its fields checked. */
export function parseDeadlineInfo(v: unknown): DeadlineInfo {
  if (!isObj(v)) throw new ShapeError('StateMinerProvingDeadline: expected dline.Info');
  const i: DeadlineInfo = {
    currentEpoch: epochOf(v['CurrentEpoch'], 'CurrentEpoch'),
    periodStart: epochOf(v['PeriodStart'], 'PeriodStart', -Number.MAX_SAFE_INTEGER),
    index: epochOf(v['Index'], 'Index'),
    open: epochOf(v['Open'], 'Open', -Number.MAX_SAFE_INTEGER),
    close: epochOf(v['Close'], 'Close', -Number.MAX_SAFE_INTEGER),
    challenge: epochOf(v['Challenge'], 'Challenge', -Number.MAX_SAFE_INTEGER),
    faultCutoff: epochOf(v['FaultCutoff'], 'FaultCutoff', -Number.MAX_SAFE_INTEGER),
    periodDeadlines: epochOf(v['WPoStPeriodDeadlines'], 'WPoStPeriodDeadlines', 1),
    provingPeriod: epochOf(v['WPoStProvingPeriod'], 'WPoStProvingPeriod', 1),
    challengeWindow: epochOf(v['WPoStChallengeWindow'], 'WPoStChallengeWindow', 1),
    challengeLookback: epochOf(v['WPoStChallengeLookback'], 'WPoStChallengeLookback'),
    faultDeclarationCutoff: epochOf(v['FaultDeclarationCutoff'], 'FaultDeclarationCutoff'),
  };
  const broken =
    i.periodDeadlines > 10_000
      ? 'WPoStPeriodDeadlines is above 10000'
      : i.provingPeriod !== i.periodDeadlines * i.challengeWindow
        ? 'WPoStProvingPeriod is not WPoStPeriodDeadlines × WPoStChallengeWindow'
        : i.index >= i.periodDeadlines
          ? 'Index is not below WPoStPeriodDeadlines'
          : i.open !== i.periodStart + i.index * i.challengeWindow
            ? 'Open is not PeriodStart + Index × WPoStChallengeWindow'
            : i.close !== i.open + i.challengeWindow
              ? 'Close is not Open + WPoStChallengeWindow'
              : i.challenge !== i.open - i.challengeLookback
                ? 'Challenge is not Open − WPoStChallengeLookback'
                : i.faultCutoff !== i.open - i.faultDeclarationCutoff
                  ? 'FaultCutoff is not Open − FaultDeclarationCutoff'
                  : undefined;
  if (broken) throw new ShapeError(`StateMinerProvingDeadline: ${broken}`);
  return i;
}

export interface PartitionState {
  all: number[];
  faulty: number[];
  recovering: number[];
  live: number[];
  active: number[];
}

export function parsePartitions(v: unknown): PartitionState[] {
  if (!Array.isArray(v)) throw new ShapeError('StateMinerPartitions: expected an array of partitions');
  if (v.length > 100_000) throw new ShapeError('StateMinerPartitions: too many partitions');
  return v.map((p, i) => {
    if (!isObj(p)) throw new ShapeError(`StateMinerPartitions[${i}]: expected an object`);
    return {
      all: decodeBitfield(p['AllSectors'], `partition ${i} AllSectors`),
      faulty: decodeBitfield(p['FaultySectors'], `partition ${i} FaultySectors`),
      recovering: decodeBitfield(p['RecoveringSectors'], `partition ${i} RecoveringSectors`),
      live: decodeBitfield(p['LiveSectors'], `partition ${i} LiveSectors`),
      active: decodeBitfield(p['ActiveSectors'], `partition ${i} ActiveSectors`),
    };
  });
}

/** PostSubmissions of every deadline (partitions proven in its current window). */
export function parseDeadlines(v: unknown): number[][] {
  if (!Array.isArray(v) || v.length > 10_000) throw new ShapeError('StateMinerDeadlines: expected an array of deadlines');
  return v.map((d, i) => {
    if (!isObj(d)) throw new ShapeError(`StateMinerDeadlines[${i}]: expected an object`);
    return decodeBitfield(d['PostSubmissions'], `deadline ${i} PostSubmissions`);
  });
}

/** miner.SectorLocation: where a sector lives, its deadline inside the period. */
export function parseSectorLocation(v: unknown, periodDeadlines: number): { deadline: number; partition: number } {
  if (!isObj(v)) throw new ShapeError('StateSectorPartition: expected a SectorLocation {Deadline, Partition}');
  const deadline = epochOf(v['Deadline'], 'SectorLocation Deadline');
  const partition = epochOf(v['Partition'], 'SectorLocation Partition');
  if (deadline >= periodDeadlines) throw new ShapeError(`StateSectorPartition: Deadline ${deadline} is not below WPoStPeriodDeadlines (${periodDeadlines})`);
  return { deadline, partition };
}

/** The sector sizes a Filecoin seal proof has (abi.RegisteredSealProof): 2 KiB, 8 MiB, 512 MiB, 32 GiB, 64 GiB. */
export const SECTOR_SIZES = [2048, 8 << 20, 512 << 20, 32 * 1024 ** 3, 64 * 1024 ** 3] as const;

/** StateMinerInfo -> MinerInfo {…, SectorSize (abi.SectorSize, a JSON number), WindowPoStPartitionSectors, …}: the sector size. */
export function parseMinerSectorSize(v: unknown): number {
  if (!isObj(v)) throw new ShapeError('StateMinerInfo: expected a MinerInfo object');
  const size = v['SectorSize'];
  if (typeof size !== 'number' || !(SECTOR_SIZES as readonly number[]).includes(size)) {
    throw new ShapeError(`StateMinerInfo: SectorSize ${JSON.stringify(size)?.slice(0, 40)} is not a Filecoin sector size (${SECTOR_SIZES.join(', ')})`);
  }
  return size;
}
