// The proving watch of one Filecoin chain, run by the chain's leader (one replica per chain, as for
// the Lava watch). It polls ChainHead every `pollIntervalMs` (Filecoin.ChainNotify over WebSocket is
// not used yet: polling at a fraction of the epoch sees every epoch's state, a skipped epoch only
// delays what is state-based anyway) and, at each new epoch, for each configured miner:
//   every epoch:      StateMinerProvingDeadline, StateMinerFaults                        (2 calls)
//   a window's last epoch: StateMinerDeadlines (its PostSubmissions before the end cron clears them) (1)
//   a new deadline:   StateMinerPartitions of the deadline that closed and of the one open (2)
//   a fault it cannot place: StateMinerPartitions of every deadline, once; cached after   (≤ 48)
// so about 1 + M × (2 + 3 / WPoStChallengeWindow) calls per epoch for M miners (measured by the int
// test). What each observation means is decided in miner-log.ts against the miner's stream, folded.
import type { EventMetadata } from '@fleetvisor/contracts';
import { handleCommand, type CommandHandlerStore } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';
import type { LotusClient } from './lotus-client';
import { decodeBitfield, parseDeadlineInfo, parseDeadlines, parsePartitions, parseTipSet, type DeadlineInfo, type PartitionState, type TipSetHead } from './lotus-shapes';
import {
  decideAtRisk,
  decideFaults,
  decideMissed,
  emptyMinerLog,
  evolveMinerLog,
  minerStream,
  type MinerLogState,
  type ProvingObservation,
  type SectorPlace,
  type WindowRef,
} from './miner-log';

/** Miners observed at the same time within one epoch. */
export const MINER_CONCURRENCY = 16;

export interface ProvingWatchOptions {
  chainId: string;
  client: LotusClient;
  miners: string[];
  store: CommandHandlerStore;
  pollIntervalMs: number;
  logger: Logger;
  host: string;
  /** Told of every event recorded (metrics, tests). */
  onRecorded?(types: string[]): void;
}

interface MinerCache {
  log?: { state: MinerLogState; version: number };
  window?: WindowRef;
  /** PostSubmissions read in a window's last epoch, by deadline and open epoch. */
  posted?: { deadline: number; open: number; partitions: number[] };
  places: Map<number, SectorPlace>;
  problem?: string;
}

export interface ProvingWatchStatus {
  chainId: string;
  /** The last epoch observed for every miner. */
  height?: number;
  epochsSeen: number;
  calls: number;
  /** Node calls per epoch for all miners of the chain (ChainHead once), from the second epoch seen. */
  callsPerEpoch?: number;
  /** ChainHead polls per epoch (epoch length / poll interval when the node keeps time). */
  headPollsPerEpoch?: number;
  problems: string[];
}

export class ProvingWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private height: number | undefined;
  /** The last epoch whose observation finished for every miner. */
  private observedHeight: number | undefined;
  private epochsSeen = 0;
  private callsAtFirstEpoch: number | undefined;
  /** ChainHead polls (most find no new epoch: they are counted apart from the per-epoch reads). */
  private headPolls = 0;
  private headPollsAtFirstEpoch = 0;
  private headProblem: string | undefined;
  private readonly miners = new Map<string, MinerCache>();
  private readonly log: Logger;
  private readonly metadata: EventMetadata;

  constructor(private readonly opts: ProvingWatchOptions) {
    this.log = opts.logger.child({ component: 'proving-watch', chainId: opts.chainId });
    this.metadata = { host: opts.host, actor: 'chain-watcher' };
    for (const m of opts.miners) this.miners.set(m, { places: new Map() });
  }

  start(): void {
    this.running = true;
    this.schedule(0);
    this.log.info({ miners: this.opts.miners }, 'proving watch started');
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.loop;
  }

  status(): ProvingWatchStatus {
    const epochs = this.epochsSeen - 1;
    return {
      chainId: this.opts.chainId,
      ...(this.observedHeight !== undefined ? { height: this.observedHeight } : {}),
      epochsSeen: this.epochsSeen,
      calls: this.opts.client.calls,
      ...(epochs > 0 && this.callsAtFirstEpoch !== undefined
        ? {
            // State reads per epoch for the fleet, plus the one ChainHead that found the epoch.
            callsPerEpoch: (this.opts.client.calls - this.callsAtFirstEpoch - (this.headPolls - this.headPollsAtFirstEpoch)) / epochs + 1,
            headPollsPerEpoch: (this.headPolls - this.headPollsAtFirstEpoch) / epochs,
          }
        : {}),
      problems: [...(this.headProblem ? [this.headProblem] : []), ...[...this.miners].flatMap(([id, c]) => (c.problem ? [`${id}: ${c.problem}`] : []))],
    };
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.loop = this.tick().finally(() => this.schedule(this.opts.pollIntervalMs));
    }, ms);
  }

  /** One poll: nothing unless the head moved to a new epoch. */
  async tick(): Promise<void> {
    let head: TipSetHead;
    try {
      this.headPolls++;
      head = parseTipSet(await this.opts.client.call('Filecoin.ChainHead', []));
      this.headProblem = undefined;
    } catch (e) {
      this.headProblem = `ChainHead: ${(e as Error).message}`.slice(0, 500);
      this.log.warn({ err: (e as Error).message }, 'ChainHead failed');
      return;
    }
    if (this.height !== undefined && head.height <= this.height) return;
    this.height = head.height;
    this.epochsSeen++;
    // Calls per epoch are counted from the second epoch on: the first fills the caches.
    if (this.epochsSeen === 2) {
      this.callsAtFirstEpoch = this.opts.client.calls;
      this.headPollsAtFirstEpoch = this.headPolls;
    }
    // Miners are independent (one stream each): observed MINER_CONCURRENCY at a time, so a fleet of
    // hundreds is read within an epoch without opening hundreds of requests at once.
    const queue = [...this.miners];
    const worker = async () => {
      for (let next = queue.shift(); next && this.running; next = queue.shift()) {
        const [minerId, cache] = next;
        try {
          await this.observe(minerId, cache, head);
          cache.problem = undefined;
        } catch (e) {
          cache.problem = (e as Error).message.slice(0, 400);
          this.log.warn({ minerId, err: (e as Error).message }, 'proving observation failed');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(MINER_CONCURRENCY, queue.length) }, worker));
    if (!this.running) return;
    this.observedHeight = head.height;
  }

  private async call(method: string, params: unknown[]): Promise<unknown> {
    return this.opts.client.call(method, params);
  }

  private async partitions(minerId: string, deadline: number, cache: MinerCache): Promise<PartitionState[]> {
    const parts = parsePartitions(await this.call('Filecoin.StateMinerPartitions', [minerId, deadline, []]));
    parts.forEach((p, partition) => {
      for (const s of p.all) cache.places.set(s, { deadline, partition });
    });
    return parts;
  }

  private async observe(minerId: string, cache: MinerCache, head: TipSetHead): Promise<void> {
    const dl: DeadlineInfo = parseDeadlineInfo(await this.call('Filecoin.StateMinerProvingDeadline', [minerId, []]));
    const obs: ProvingObservation = {
      chainId: this.opts.chainId,
      minerId,
      epoch: dl.currentEpoch,
      timeMs: head.timeMs,
      metadata: this.metadata,
    };
    const current: WindowRef = { deadline: dl.index, periodStart: dl.periodStart, open: dl.open, close: dl.close };

    let closed: { window: WindowRef; after: PartitionState[]; posted: number[] | undefined } | undefined;
    let opened: PartitionState[] | undefined;
    if (cache.window?.open !== current.open) {
      const n = dl.periodDeadlines;
      const prevIndex = (dl.index - 1 + n) % n;
      const prev: WindowRef = {
        deadline: prevIndex,
        periodStart: dl.index === 0 ? dl.periodStart - dl.provingPeriod : dl.periodStart,
        open: dl.open - dl.challengeWindow,
        close: dl.open,
      };
      // The PostSubmissions read in the closed window's last epoch, when this watcher saw it.
      const posted = cache.posted && cache.posted.deadline === prev.deadline && cache.posted.open === prev.open ? cache.posted.partitions : undefined;
      closed = { window: prev, after: await this.partitions(minerId, prev.deadline, cache), posted };
      opened = await this.partitions(minerId, current.deadline, cache);
    }
    if (dl.currentEpoch >= dl.close - 1) {
      const all = parseDeadlines(await this.call('Filecoin.StateMinerDeadlines', [minerId, []]));
      cache.posted = { deadline: dl.index, open: dl.open, partitions: all[dl.index] ?? [] };
    }
    const faults = decodeBitfield(await this.call('Filecoin.StateMinerFaults', [minerId, []]), 'StateMinerFaults');
    if (faults.some((s) => !cache.places.has(s) && !cache.log?.state.faulty.has(s))) {
      // A fault in a deadline not read yet: learn every deadline's partitions once.
      for (let d = 0; d < dl.periodDeadlines; d++) await this.partitions(minerId, d, cache);
    }

    const decide = (state: MinerLogState) => {
      const events = [
        ...(closed ? decideMissed(state, obs, closed.window, closed.after, closed.posted) : []),
        ...(opened ? decideAtRisk(state, obs, current, opened) : []),
      ];
      const f = decideFaults(state, obs, faults, (s) => cache.places.get(s));
      if (f.unplaced.length > 0) this.log.warn({ minerId, sectors: f.unplaced.slice(0, 20) }, 'faulty sectors in no partition read: left for a later epoch');
      return [...events, ...f.events];
    };
    const result = await handleCommand(this.opts.store, minerStream(minerId), decide, {
      initialState: emptyMinerLog,
      evolve: evolveMinerLog,
      ...(cache.log ? { known: cache.log } : {}),
    });
    cache.log = { state: result.state, version: result.version };
    cache.window = current;
    if (result.appended > 0) {
      this.log.info({ minerId, epoch: dl.currentEpoch, events: result.events.map((e) => e.type) }, 'proving events recorded');
      this.opts.onRecorded?.(result.events.map((e) => e.type));
    }
  }
}
