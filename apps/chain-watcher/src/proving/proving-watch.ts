// The proving watch of one Filecoin chain, run by the chain's leader (one replica per chain, as for
// the Lava watch). It follows the head through Filecoin.ChainNotify over WebSocket when the node
// offers it (chain-notify.ts), and polls ChainHead every `pollIntervalMs` while the subscription is
// down or refused; each head seen is observed once (a head at the same height with another tipset
// key, after a reorg, is observed again). The state calls go over that WebSocket while it is up,
// over HTTP otherwise. At each new head, for each configured miner:
//   every epoch:      StateMinerFaults                                                  (1 call)
//   a window's last epoch: StateMinerDeadlines (its PostSubmissions before the end cron clears them) (1)
//   a new deadline:   StateMinerProvingDeadline (dline.Info holds until Close), and
//                     StateMinerPartitions of the deadline that closed and of the one open (3)
//   a fault it cannot place: StateSectorPartition, then StateMinerPartitions of that deadline (2)
//     (every deadline's partitions, once, from a node without StateSectorPartition;     ≤ 48)
// so about M × (1 + 4 / WPoStChallengeWindow) calls per epoch for M miners over ChainNotify, plus
// epoch / poll interval ChainHead calls while polling (measured by the int test and the bench).
// Heads arriving faster than the miners are observed are coalesced to the newest: every decision is
// state-based (miner-log.ts, against the miner's stream folded), so a skipped epoch delays what it
// would have shown, it loses nothing.
import type { EventMetadata } from '@fleetvisor/contracts';
import { handleCommand, type CommandHandlerStore } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';
import { ChainNotifyClient, type ChainNotifyOptions, type HeadChange } from './chain-notify';
import { LotusRpcError, type LotusClient } from './lotus-client';
import { decodeBitfield, parseDeadlineInfo, parseDeadlines, parsePartitions, parseSectorLocation, parseTipSet, type DeadlineInfo, type PartitionState, type TipSetHead } from './lotus-shapes';
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
  /** Follow the head over ChainNotify (absent: poll only). */
  notify?: Omit<ChainNotifyOptions, 'logger' | 'onChanges' | 'onState'>;
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
  /** The dline.Info read last (its window's fields hold until Close). */
  deadline?: DeadlineInfo;
  problem?: string;
}

/** How the leader follows the head: ChainNotify pushes it, or ChainHead is polled. */
export type ProvingWatchMode = 'notify' | 'poll';

export interface ProvingWatchStatus {
  chainId: string;
  mode: ProvingWatchMode;
  /** Why ChainNotify is not in use (configured but down or refused). */
  notifyProblem?: string;
  miners: string[];
  /** The last epoch observed for every miner. */
  height?: number;
  epochsSeen: number;
  /** Heads that came from ChainNotify (the rest from ChainHead polls). */
  headsNotified: number;
  /** State reads the node could not answer at the observed tipset, made at its head instead. */
  keyFallbacks: number;
  calls: number;
  /** Node calls per epoch for all miners of the chain (state reads, ChainHead polls, ChainNotify subscriptions), from the second epoch seen. */
  callsPerEpoch?: number;
  /** ChainHead polls per epoch (epoch length / poll interval while polling; 0 over ChainNotify). */
  headPollsPerEpoch?: number;
  problems: string[];
}

export class ProvingWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Every head observation and poll runs on this chain, one at a time. */
  private loop: Promise<void> = Promise.resolve();
  private mode: ProvingWatchMode = 'poll';
  private pollInFlight = false;
  /** The newest head notified and not observed yet (older ones are superseded). */
  private pending: TipSetHead | undefined;
  private drainQueued = false;
  private height: number | undefined;
  private headKey: string | undefined;
  /** The last epoch whose observation finished for every miner. */
  private observedHeight: number | undefined;
  private epochsSeen = 0;
  private headsNotified = 0;
  private keyFallbacks = 0;
  private callsAtFirstEpoch: number | undefined;
  /** ChainHead polls (most find no new epoch: they are counted apart from the per-epoch reads). */
  private headPolls = 0;
  private headPollsAtFirstEpoch = 0;
  private headProblem: string | undefined;
  private readonly notifier: ChainNotifyClient | undefined;
  private readonly miners = new Map<string, MinerCache>();
  private readonly log: Logger;
  private readonly metadata: EventMetadata;

  constructor(private readonly opts: ProvingWatchOptions) {
    this.log = opts.logger.child({ component: 'proving-watch', chainId: opts.chainId });
    this.metadata = { host: opts.host, actor: 'chain-watcher' };
    for (const m of opts.miners) this.miners.set(m, { places: new Map() });
    if (opts.notify) {
      this.notifier = new ChainNotifyClient({
        ...opts.notify,
        logger: this.log,
        onChanges: (changes) => this.onChanges(changes),
        onState: (up) => this.onNotifyState(up),
      });
    }
  }

  start(): void {
    this.running = true;
    this.notifier?.start();
    this.schedulePoll(0);
    this.log.info({ miners: this.opts.miners, notify: this.notifier !== undefined }, 'proving watch started');
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notifier?.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.loop;
  }

  private get calls(): number {
    return this.opts.client.calls + (this.notifier?.calls ?? 0);
  }

  status(): ProvingWatchStatus {
    const epochs = this.epochsSeen - 1;
    const notifyProblem = this.notifier && this.mode === 'poll' ? (this.notifier.problem ?? 'ChainNotify not subscribed yet') : undefined;
    return {
      chainId: this.opts.chainId,
      mode: this.mode,
      ...(notifyProblem ? { notifyProblem } : {}),
      miners: [...this.opts.miners],
      ...(this.observedHeight !== undefined ? { height: this.observedHeight } : {}),
      epochsSeen: this.epochsSeen,
      headsNotified: this.headsNotified,
      keyFallbacks: this.keyFallbacks,
      calls: this.calls,
      ...(epochs > 0 && this.callsAtFirstEpoch !== undefined
        ? {
            callsPerEpoch: (this.calls - this.callsAtFirstEpoch) / epochs,
            headPollsPerEpoch: (this.headPolls - this.headPollsAtFirstEpoch) / epochs,
          }
        : {}),
      problems: [...(this.headProblem ? [this.headProblem] : []), ...[...this.miners].flatMap(([id, c]) => (c.problem ? [`${id}: ${c.problem}`] : []))],
    };
  }

  /** Runs `fn` after everything queued (observations never overlap). */
  private enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.loop.then(fn).catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'proving watch step failed'));
    this.loop = next;
    return next;
  }

  /** Polls ChainHead every pollIntervalMs while ChainNotify is not up. */
  private schedulePoll(ms: number): void {
    if (!this.running || this.mode === 'notify' || this.pollInFlight) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pollInFlight = true;
      void this.enqueue(() => (this.mode === 'poll' ? this.tick() : Promise.resolve())).finally(() => {
        this.pollInFlight = false;
        this.schedulePoll(this.opts.pollIntervalMs);
      });
    }, ms);
  }

  private onNotifyState(up: boolean): void {
    if (!this.running) return;
    if (up) {
      // The subscription's "current" head follows: polling stops here.
      this.mode = 'notify';
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.headProblem = undefined;
      return;
    }
    // Polled at once: whatever happened since the last notification is read now.
    this.mode = 'poll';
    this.schedulePoll(0);
  }

  private onChanges(changes: HeadChange[]): void {
    if (!this.running) return;
    const last = changes[changes.length - 1]!;
    if (last.type === 'revert') {
      // Reverted without an apply: the new head is not in the notification, so it is asked for.
      void this.enqueue(() => this.tick());
      return;
    }
    this.pending = last.head;
    if (this.drainQueued) return;
    this.drainQueued = true;
    void this.enqueue(async () => {
      this.drainQueued = false;
      const head = this.pending;
      this.pending = undefined;
      if (head && this.running) await this.onHead(head, true);
    });
  }

  /** One poll: nothing unless the head moved. */
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
    await this.onHead(head, false);
  }

  /** Observes every miner at a head newer than the last one (or the same height after a reorg). */
  private async onHead(head: TipSetHead, notified: boolean): Promise<void> {
    const key = JSON.stringify(head.key);
    if (this.height !== undefined && (head.height < this.height || (head.height === this.height && key === this.headKey))) return;
    const newEpoch = this.height === undefined || head.height > this.height;
    this.height = head.height;
    this.headKey = key;
    if (notified) this.headsNotified++;
    if (newEpoch) {
      this.epochsSeen++;
      // Calls per epoch are counted from the second epoch on: the first fills the caches.
      if (this.epochsSeen === 2) {
        this.callsAtFirstEpoch = this.calls;
        this.headPollsAtFirstEpoch = this.headPolls;
      }
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

  /** Over the subscribed WebSocket when it is up; over HTTP otherwise, or when the socket fails the call. */
  private async call(method: string, params: unknown[]): Promise<unknown> {
    if (this.notifier?.up) {
      try {
        return await this.notifier.call(method, params);
      } catch (e) {
        if (e instanceof LotusRpcError && e.code !== undefined) throw e;
      }
    }
    return this.opts.client.call(method, params);
  }

  /**
   * A state read at the tipset being observed (its key, as Lotus takes it), so every read of one
   * observation sees the same epoch even when the head moves meanwhile. A node that cannot load
   * that tipset any more is asked at its head instead (what the read gives then is newer, never older).
   */
  private async stateCall(method: string, params: unknown[], key: readonly unknown[]): Promise<unknown> {
    try {
      return await this.call(method, [...params, key]);
    } catch (e) {
      if (!(e instanceof LotusRpcError && e.code !== undefined && key.length > 0 && /tipset/i.test(e.message))) throw e;
      this.keyFallbacks++;
      this.log.debug({ method, err: e.message }, 'tipset not loadable: read at the head');
      return this.call(method, [...params, []]);
    }
  }

  private async partitions(minerId: string, deadline: number, cache: MinerCache, key: readonly unknown[]): Promise<PartitionState[]> {
    const parts = parsePartitions(await this.stateCall('Filecoin.StateMinerPartitions', [minerId, deadline], key));
    parts.forEach((p, partition) => {
      for (const s of p.all) cache.places.set(s, { deadline, partition });
    });
    return parts;
  }

  /**
   * Faults in deadlines not read yet: StateSectorPartition names one's deadline, whose partitions
   * are read then (placing every sector of that deadline); again for what is still unplaced, at
   * most once per deadline. A node without StateSectorPartition has every deadline read, once.
   */
  private async place(minerId: string, cache: MinerCache, periodDeadlines: number, unplaced: number[], key: readonly unknown[]): Promise<void> {
    const tried = new Set<number>();
    for (const sector of unplaced) {
      if (cache.places.has(sector)) continue;
      let deadline: number;
      try {
        deadline = parseSectorLocation(await this.stateCall('Filecoin.StateSectorPartition', [minerId, sector], key), periodDeadlines).deadline;
      } catch (e) {
        if (!(e instanceof LotusRpcError) || e.code === undefined) throw e;
        for (let d = 0; d < periodDeadlines; d++) await this.partitions(minerId, d, cache, key);
        return;
      }
      // A node naming a deadline that does not hold the sector is not asked again this epoch.
      if (tried.has(deadline)) continue;
      tried.add(deadline);
      await this.partitions(minerId, deadline, cache, key);
    }
  }

  private async observe(minerId: string, cache: MinerCache, head: TipSetHead): Promise<void> {
    // dline.Info changes only when the epoch leaves [Open, Close): inside the window read last, only
    // CurrentEpoch moves, so the node is asked once per deadline.
    const known = cache.deadline;
    const dl: DeadlineInfo =
      known && head.height >= known.currentEpoch && head.height < known.close
        ? { ...known, currentEpoch: head.height }
        : parseDeadlineInfo(await this.stateCall('Filecoin.StateMinerProvingDeadline', [minerId], head.key));
    cache.deadline = dl;
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
      closed = { window: prev, after: await this.partitions(minerId, prev.deadline, cache, head.key), posted };
      opened = await this.partitions(minerId, current.deadline, cache, head.key);
    }
    if (dl.currentEpoch >= dl.close - 1) {
      const all = parseDeadlines(await this.stateCall('Filecoin.StateMinerDeadlines', [minerId], head.key));
      cache.posted = { deadline: dl.index, open: dl.open, partitions: all[dl.index] ?? [] };
    }
    const faults = decodeBitfield(await this.stateCall('Filecoin.StateMinerFaults', [minerId], head.key), 'StateMinerFaults');
    await this.place(minerId, cache, dl.periodDeadlines, faults.filter((s) => !cache.places.has(s) && !cache.log?.state.faulty.has(s)), head.key);

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
