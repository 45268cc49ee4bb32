// The proving state of simulated storage providers, advanced one epoch at a time: proving periods
// of `periodDeadlines` deadlines of `challengeWindow` epochs (48 × 60 on mainnet; smaller in tests,
// the relationships kept: period = deadlines × window, Open = PeriodStart + Index × window, Close =
// Open + window, Challenge = Open − lookback, FaultCutoff = Open − FaultDeclarationCutoff).
//
// What the simulated miner does, as the builtin miner actor would see it:
// - at `Open + proveDelay` it submits a Window PoSt for each partition of the open deadline, except
//   a partition holding faulty sectors not declared recovering (the simulated prover cannot prove
//   it) or a deadline told to miss (control `miss`);
// - at the deadline's last epoch (the actor's deadline-end cron): a partition without a PoSt has all
//   its sectors marked faulty and its recoveries dropped; a proven one has its recovering sectors
//   recovered; PostSubmissions is cleared.
// Faults and recovery declarations are injected (control `fault`, `recover`).

export interface ProvingParams {
  periodDeadlines: number;
  challengeWindow: number;
  challengeLookback: number;
  faultDeclarationCutoff: number;
}

export const MAINNET_PROVING: ProvingParams = { periodDeadlines: 48, challengeWindow: 60, challengeLookback: 20, faultDeclarationCutoff: 70 };

export interface ProvingMinerSpec {
  id: string;
  /** Partitions in each deadline (default 1). */
  partitionsPerDeadline?: number;
  /** Sectors in each partition (default 4). */
  sectorsPerPartition?: number;
  /** Offset of the miner's proving period within a period (default derived from its position). */
  periodOffset?: number;
  /** Sector size in bytes, as StateMinerInfo answers it (default 32 GiB). */
  sectorSize?: number;
}

export interface DeadlineInfo {
  CurrentEpoch: number;
  PeriodStart: number;
  Index: number;
  Open: number;
  Close: number;
  Challenge: number;
  FaultCutoff: number;
  WPoStPeriodDeadlines: number;
  WPoStProvingPeriod: number;
  WPoStChallengeWindow: number;
  WPoStChallengeLookback: number;
  FaultDeclarationCutoff: number;
}

interface MinerState {
  id: string;
  partitions: number;
  sectorsPerPartition: number;
  sectorSize: number;
  offset: number;
  faulty: Set<number>;
  recovering: Set<number>;
  /** Partitions proven in the open deadline (cleared at its end). */
  posted: Map<number, Set<number>>;
  /** Deadlines whose next window the miner will not prove. */
  miss: Set<number>;
}

export class ProvingChain {
  private epoch: number;
  private readonly miners = new Map<string, MinerState>();

  constructor(
    readonly params: ProvingParams,
    miners: readonly ProvingMinerSpec[],
    startEpoch: number,
    /** Epochs after Open at which the miner submits its proofs (clamped inside the window). */
    private readonly proveDelay = 1,
  ) {
    if (params.periodDeadlines < 1 || params.challengeWindow < 2) throw new Error('a period needs >= 1 deadline and a window >= 2 epochs');
    this.epoch = startEpoch;
    const period = this.period;
    miners.forEach((m, i) => {
      this.miners.set(m.id, {
        id: m.id,
        partitions: m.partitionsPerDeadline ?? 1,
        sectorsPerPartition: m.sectorsPerPartition ?? 4,
        sectorSize: m.sectorSize ?? 32 * 1024 ** 3,
        offset: (((m.periodOffset ?? i * 7 * params.challengeWindow + i) % period) + period) % period,
        faulty: new Set(),
        recovering: new Set(),
        posted: new Map(),
        miss: new Set(),
      });
    });
    // A chain that starts mid-window has had its proofs submitted already (the window is not missed).
    for (const m of this.miners.values()) {
      const dl = this.deadline(m.id);
      if (this.epoch >= this.proveAt(dl.Open)) this.prove(m, dl.Index);
    }
  }

  /**
   * The state as it is now, apart from what comes later: what a node answers for this tipset once
   * the chain has moved on (the injected faults, recoveries and proofs after it are not in it).
   */
  snapshot(): ProvingChain {
    const copy = Object.create(ProvingChain.prototype) as ProvingChain;
    const miners = new Map<string, MinerState>();
    for (const [id, m] of this.miners) {
      miners.set(id, { ...m, faulty: new Set(m.faulty), recovering: new Set(m.recovering), posted: new Map([...m.posted].map(([d, ps]) => [d, new Set(ps)])), miss: new Set(m.miss) });
    }
    Object.assign(copy, { params: this.params, proveDelay: this.proveDelay, epoch: this.epoch, miners });
    return copy;
  }

  private proveAt(open: number): number {
    return open + Math.min(Math.max(0, this.proveDelay), this.params.challengeWindow - 1);
  }

  get period(): number {
    return this.params.periodDeadlines * this.params.challengeWindow;
  }

  get height(): number {
    return this.epoch;
  }

  minerIds(): string[] {
    return [...this.miners.keys()];
  }

  has(id: unknown): boolean {
    return typeof id === 'string' && this.miners.has(id);
  }

  private miner(id: string): MinerState {
    const m = this.miners.get(id);
    if (!m) throw new Error(`actor not found: ${id}`);
    return m;
  }

  /** dline.Info of the miner's deadline open at `epoch` (default: the current one). */
  deadline(id: string, epoch = this.epoch): DeadlineInfo {
    const m = this.miner(id);
    const p = this.params;
    const period = this.period;
    const inPeriod = (((epoch - m.offset) % period) + period) % period;
    const periodStart = epoch - inPeriod;
    const index = Math.floor(inPeriod / p.challengeWindow);
    const open = periodStart + index * p.challengeWindow;
    return {
      CurrentEpoch: epoch,
      PeriodStart: periodStart,
      Index: index,
      Open: open,
      Close: open + p.challengeWindow,
      Challenge: open - p.challengeLookback,
      FaultCutoff: open - p.faultDeclarationCutoff,
      WPoStPeriodDeadlines: p.periodDeadlines,
      WPoStProvingPeriod: period,
      WPoStChallengeWindow: p.challengeWindow,
      WPoStChallengeLookback: p.challengeLookback,
      FaultDeclarationCutoff: p.faultDeclarationCutoff,
    };
  }

  /** Sector numbers of one partition: deadlines, then partitions, numbered in order. */
  sectorsOf(id: string, deadline: number, partition: number): number[] {
    const m = this.miner(id);
    if (deadline < 0 || deadline >= this.params.periodDeadlines || partition < 0 || partition >= m.partitions) return [];
    const first = (deadline * m.partitions + partition) * m.sectorsPerPartition;
    return Array.from({ length: m.sectorsPerPartition }, (_, k) => first + k);
  }

  /** Where a sector lives, or undefined. */
  locate(id: string, sector: number): { deadline: number; partition: number } | undefined {
    const m = this.miner(id);
    if (!Number.isInteger(sector) || sector < 0) return undefined;
    const slot = Math.floor(sector / m.sectorsPerPartition);
    const deadline = Math.floor(slot / m.partitions);
    if (deadline >= this.params.periodDeadlines) return undefined;
    return { deadline, partition: slot % m.partitions };
  }

  partitionCount(id: string): number {
    return this.miner(id).partitions;
  }

  sectorSize(id: string): number {
    return this.miner(id).sectorSize;
  }

  sectorCount(id: string): number {
    const m = this.miner(id);
    return this.params.periodDeadlines * m.partitions * m.sectorsPerPartition;
  }

  partitionState(id: string, deadline: number, partition: number): { all: number[]; faulty: number[]; recovering: number[] } {
    const m = this.miner(id);
    const all = this.sectorsOf(id, deadline, partition);
    return { all, faulty: all.filter((s) => m.faulty.has(s)), recovering: all.filter((s) => m.recovering.has(s)) };
  }

  faults(id: string): number[] {
    return [...this.miner(id).faulty].sort((a, b) => a - b);
  }

  recoveries(id: string): number[] {
    return [...this.miner(id).recovering].sort((a, b) => a - b);
  }

  postSubmissions(id: string, deadline: number): number[] {
    return [...(this.miner(id).posted.get(deadline) ?? [])].sort((a, b) => a - b);
  }

  /** DeclareFaults: the sectors become faulty (and no longer recovering). */
  declareFaults(id: string, sectors: readonly number[]): void {
    const m = this.miner(id);
    for (const s of sectors) {
      if (!this.locate(id, s)) throw new Error(`sector ${s} does not exist for ${id}`);
    }
    for (const s of sectors) {
      m.faulty.add(s);
      m.recovering.delete(s);
    }
  }

  /** DeclareFaultsRecovered: faulty sectors become recovering (recovered at their next proven window). */
  declareRecoveries(id: string, sectors: readonly number[]): void {
    const m = this.miner(id);
    for (const s of sectors) {
      if (!m.faulty.has(s)) throw new Error(`sector ${s} of ${id} is not faulty`);
    }
    for (const s of sectors) m.recovering.add(s);
  }

  /** The miner will not prove the next window of this deadline. */
  missDeadline(id: string, deadline: number): void {
    if (!Number.isInteger(deadline) || deadline < 0 || deadline >= this.params.periodDeadlines) throw new Error(`deadline ${deadline} out of range`);
    this.miner(id).miss.add(deadline);
  }

  /** One epoch passes: the cron of the epoch ending, then the miners' proofs in the new one. */
  step(): void {
    const ending = this.epoch;
    for (const m of this.miners.values()) {
      const dl = this.deadline(m.id, ending);
      if (ending === dl.Close - 1) this.endDeadline(m, dl.Index);
    }
    this.epoch++;
    for (const m of this.miners.values()) {
      const dl = this.deadline(m.id);
      if (this.epoch === this.proveAt(dl.Open)) this.prove(m, dl.Index);
    }
  }

  private prove(m: MinerState, deadline: number): void {
    if (m.miss.delete(deadline)) return;
    const posted = new Set<number>();
    for (let p = 0; p < m.partitions; p++) {
      const undeclared = this.sectorsOf(m.id, deadline, p).some((s) => m.faulty.has(s) && !m.recovering.has(s));
      if (!undeclared) posted.add(p);
    }
    m.posted.set(deadline, posted);
  }

  private endDeadline(m: MinerState, deadline: number): void {
    const posted = m.posted.get(deadline) ?? new Set<number>();
    for (let p = 0; p < m.partitions; p++) {
      for (const s of this.sectorsOf(m.id, deadline, p)) {
        if (posted.has(p)) {
          if (m.recovering.delete(s)) m.faulty.delete(s);
        } else {
          m.faulty.add(s);
          m.recovering.delete(s);
        }
      }
    }
    m.posted.delete(deadline);
  }
}
