// The simulated chain state behind the Filecoin.* methods: an epoch that advances with time (30 s
// per epoch on Filecoin mainnet; faster when asked), tipsets with made-up CIDs derived from the
// height, and miners with sectors. Answers have the field names of Lotus/venus JSON (PascalCase,
// CIDs as {"/": …}); their values are plausible stand-ins, not chain truth. Proving deadlines use
// Filecoin's constants: 2880-epoch proving period, 48 deadlines of 60 epochs, 20-epoch lookback.
import { createHash } from 'node:crypto';

export const WPOST_PERIOD_DEADLINES = 48;
export const WPOST_CHALLENGE_WINDOW = 60;
export const WPOST_PROVING_PERIOD = WPOST_PERIOD_DEADLINES * WPOST_CHALLENGE_WINDOW;
export const WPOST_CHALLENGE_LOOKBACK = 20;
export const FAULT_DECLARATION_CUTOFF = 70;
export const NETWORK_VERSION = 21;

export type Cid = { '/': string };

export function cidOf(...parts: (string | number)[]): Cid {
  // 'bafy2bzace' is the prefix of a dag-cbor blake2b-256 CID in base32; the rest is a stable hash.
  const h = createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 50);
  return { '/': `bafy2bzace${h.replace(/[^a-z2-7]/g, (c) => 'abcdefghij'[Number.parseInt(c, 16) % 10]!)}` };
}

export interface SimMiner {
  id: string;
  sectors: number;
  /** Epoch the miner's proving period started at (its offset within a period). */
  provingPeriodStart: number;
}

export class SimChain {
  constructor(
    private readonly genesisMs: number,
    private readonly epochMs: number,
    readonly miners: Map<string, SimMiner>,
  ) {}

  height(now = Date.now()): number {
    return Math.max(0, Math.floor((now - this.genesisMs) / this.epochMs));
  }

  tipSet(height: number): { Cids: Cid[]; Blocks: unknown[]; Height: number } {
    const miners = [...this.miners.keys()];
    const miner = miners.length > 0 ? miners[height % miners.length]! : 'f01000';
    return {
      Cids: [cidOf('block', height)],
      Blocks: [{ Miner: miner, Parents: [cidOf('block', height - 1)], ParentWeight: String(1000 + height * 10), Height: height, Timestamp: Math.floor((this.genesisMs + height * this.epochMs) / 1000) }],
      Height: height,
    };
  }

  miner(id: unknown): SimMiner | undefined {
    return typeof id === 'string' ? this.miners.get(id) : undefined;
  }

  /** dline.Info of a miner at the current epoch. */
  provingDeadline(m: SimMiner, height: number) {
    const inPeriod = (((height - m.provingPeriodStart) % WPOST_PROVING_PERIOD) + WPOST_PROVING_PERIOD) % WPOST_PROVING_PERIOD;
    const periodStart = height - inPeriod;
    const index = Math.floor(inPeriod / WPOST_CHALLENGE_WINDOW);
    const open = periodStart + index * WPOST_CHALLENGE_WINDOW;
    return {
      CurrentEpoch: height,
      PeriodStart: periodStart,
      Index: index,
      Open: open,
      Close: open + WPOST_CHALLENGE_WINDOW,
      Challenge: open - WPOST_CHALLENGE_LOOKBACK,
      FaultCutoff: open - FAULT_DECLARATION_CUTOFF,
      WPoStPeriodDeadlines: WPOST_PERIOD_DEADLINES,
      WPoStProvingPeriod: WPOST_PROVING_PERIOD,
      WPoStChallengeWindow: WPOST_CHALLENGE_WINDOW,
      WPoStChallengeLookback: WPOST_CHALLENGE_LOOKBACK,
      FaultDeclarationCutoff: FAULT_DECLARATION_CUTOFF,
    };
  }

  sectorInfo(m: SimMiner, sector: number, height: number) {
    if (!Number.isInteger(sector) || sector < 0 || sector >= m.sectors) return null;
    return {
      SectorNumber: sector,
      SealProof: 8,
      SealedCID: cidOf(m.id, 'sealed', sector),
      DealIDs: [],
      Activation: Math.max(0, height - 1000 - sector),
      Expiration: height + 518_400 + sector,
      DealWeight: '0',
      VerifiedDealWeight: '0',
      InitialPledge: '150000000000000000',
      ExpectedDayReward: '1000000000000000',
      ExpectedStoragePledge: '2000000000000000',
    };
  }
}
