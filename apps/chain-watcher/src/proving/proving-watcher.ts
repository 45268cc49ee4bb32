// The proving watch of one chain-watcher process: for every configured Filecoin chain a leadership
// (lock `proving-watch:<name>`, the Lava watch's ChainLeadership helper) whose leader runs a
// ProvingWatch; and the `chain-watcher.proving-miner` query, which any replica answers by reading
// the miner's chain node now (a separate client: queries do not count in the watch's calls/epoch).
import { ChainProvingLeaderStatus, type FilecoinChainStatus, type ProvingMinerView, type ProvingSectorsView } from '@fleetvisor/contracts';
import type { CommandHandlerStore } from '@fleetvisor/event-store';
import { CommandFailure, type CommandBus } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import type { LeaderLocks } from '../chain-watcher';
import { ChainLeadership } from '../leadership/chain-leadership';
import { httpUrlOf } from './chain-notify';
import { LotusClient } from './lotus-client';
import { parseDeadlineInfo, parseDeadlines, parseMinerSectorSize, parsePartitions } from './lotus-shapes';
import { FILECOIN_TOKEN_VARIABLE, type FilecoinWatchConfig } from './proving-config';
import { ProvingWatch, type ProvingWatchStatus } from './proving-watch';

export interface ProvingWatcherDeps {
  config: FilecoinWatchConfig;
  store: CommandHandlerStore;
  leaderLock: LeaderLocks;
  /** To ask the other replicas which chains they lead (status). */
  commands?: Pick<CommandBus, 'request'>;
  logger: Logger;
  host: string;
  rpcTimeoutMs: number;
  leaderRetryMs: number;
  leaderHealthCheckMs: number;
  onRpcCall?(chain: string, method: string): void;
}

export const provingLockName = (chain: string): string => `proving-watch:${chain}`;

export class ProvingWatcher {
  private readonly leaderships = new Map<string, ChainLeadership>();
  private readonly watches = new Map<string, ProvingWatch>();
  private readonly log: Logger;

  constructor(private readonly deps: ProvingWatcherDeps) {
    this.log = deps.logger.child({ component: 'proving-watcher' });
  }

  /** The configured token for the node clients, revealed only here (into a request header). */
  private clientAuth(): { token?: string; tokenVariable: string } {
    const t = this.deps.config.token;
    return t ? { token: t.secret.reveal(), tokenVariable: t.variable } : { tokenVariable: FILECOIN_TOKEN_VARIABLE };
  }

  start(): void {
    for (const chain of this.deps.config.chains) {
      const leadership = new ChainLeadership({
        chainId: chain.name,
        lock: this.deps.leaderLock(provingLockName(chain.name), { healthCheckIntervalMs: this.deps.leaderHealthCheckMs }),
        retryMs: this.deps.leaderRetryMs,
        logger: this.log,
        lead: () => {
          const watch = new ProvingWatch({
            chainId: chain.name,
            client: new LotusClient({ ...this.clientAuth(), endpoints: chain.endpoints.map(httpUrlOf), timeoutMs: this.deps.rpcTimeoutMs, onCall: (m) => this.deps.onRpcCall?.(chain.name, m) }),
            miners: chain.miners,
            store: this.deps.store,
            pollIntervalMs: this.deps.config.pollIntervalMs,
            ...(this.deps.config.notify
              ? {
                  notify: {
                    ...this.clientAuth(),
                    endpoints: chain.endpoints,
                    timeoutMs: this.deps.rpcTimeoutMs,
                    retryMinMs: Math.min(100, this.deps.config.notifyRetryMaxMs),
                    retryMaxMs: this.deps.config.notifyRetryMaxMs,
                    stallMs: this.deps.config.notifyStallMs,
                    onCall: (m: string) => this.deps.onRpcCall?.(chain.name, m),
                  },
                }
              : {}),
            logger: this.log,
            host: this.deps.host,
          });
          watch.start();
          this.watches.set(chain.name, watch);
          return Promise.resolve({
            stop: async () => {
              this.watches.delete(chain.name);
              await watch.stop();
            },
          });
        },
      });
      this.leaderships.set(chain.name, leadership);
      leadership.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.leaderships.values()].map((l) => l.stop()));
  }

  isLeader(chain: string): boolean {
    return this.leaderships.get(chain)?.isLeader === true;
  }

  /** What this replica's watches see (the chains it leads). */
  status(): ProvingWatchStatus[] {
    return [...this.watches.values()].map((w) => w.status());
  }

  /** The chain as this replica sees it, when it leads it (`chain-watcher.proving-leader-status`). */
  localChainStatus(chainId: string): FilecoinChainStatus | undefined {
    const w = this.watches.get(chainId);
    if (!w) return undefined;
    const s = w.status();
    return {
      chainId: s.chainId,
      mode: s.mode,
      leaderHost: this.deps.host,
      ...(s.height !== undefined ? { height: s.height } : {}),
      miners: s.miners,
      ...(s.callsPerEpoch !== undefined ? { callsPerEpoch: Math.round(s.callsPerEpoch * 100) / 100 } : {}),
      ...(s.notifyProblem ? { notifyProblem: s.notifyProblem.slice(0, 500) } : {}),
      problems: s.problems.slice(0, 32).map((p) => p.slice(0, 500)),
    };
  }

  /** Whether a Filecoin chain of this name is configured. */
  isWatched(chainId: string): boolean {
    return this.deps.config.chains.some((c) => c.name === chainId);
  }

  /** Every configured Filecoin chain (or one) as its leader sees it; a chain no replica leads says so. */
  async chainStatus(chainId?: string): Promise<FilecoinChainStatus[]> {
    const chains = this.deps.config.chains.filter((c) => chainId === undefined || c.name === chainId);
    return Promise.all(
      chains.map(async (c): Promise<FilecoinChainStatus> => {
        const local = this.localChainStatus(c.name);
        if (local) return local;
        const remote = await this.deps.commands?.request(ChainProvingLeaderStatus, { chainId: c.name }, { timeoutMs: 2_000 });
        if (remote?.ok && remote.result) return remote.result;
        const why = remote === undefined ? 'no bus to ask the other replicas' : remote.ok ? 'empty reply' : remote.error.message;
        return { chainId: c.name, mode: 'no_leader', miners: [...c.miners], problems: [`no replica leads this chain: ${why}`.slice(0, 500)] };
      }),
    );
  }

  private chainOf(minerId: string) {
    const chain = this.deps.config.chains.find((c) => c.miners.includes(minerId));
    if (!chain) throw new CommandFailure('not_found', `miner ${minerId} is not watched (watched: ${this.deps.config.chains.flatMap((c) => c.miners.map((m) => `${c.name}:${m}`)).join(', ')})`);
    return chain;
  }

  /**
   * `chain-watcher.proving-sectors`: one deadline's live sectors by partition and the miner's sector
   * size, for `proving check` (3 calls: the period's shape, the sector size, the deadline's partitions).
   */
  async deadlineSectors(minerId: string, deadline: number): Promise<ProvingSectorsView> {
    const chain = this.chainOf(minerId);
    const client = new LotusClient({ ...this.clientAuth(), endpoints: chain.endpoints.map(httpUrlOf), timeoutMs: this.deps.rpcTimeoutMs });
    try {
      const dl = parseDeadlineInfo(await client.call('Filecoin.StateMinerProvingDeadline', [minerId, []]));
      if (deadline >= dl.periodDeadlines) throw new CommandFailure('invalid_request', `deadline ${deadline} is not a deadline of ${minerId} (0..${dl.periodDeadlines - 1})`);
      const sectorSize = parseMinerSectorSize(await client.call('Filecoin.StateMinerInfo', [minerId, []]));
      const parts = parsePartitions(await client.call('Filecoin.StateMinerPartitions', [minerId, deadline, []]));
      return {
        chainId: chain.name,
        minerId,
        deadline,
        currentEpoch: dl.currentEpoch,
        sectorSize,
        partitions: parts.map((p, partition) => ({ partition, sectors: p.live, faulty: p.faulty })),
      };
    } catch (e) {
      if (e instanceof CommandFailure) throw e;
      throw new CommandFailure('unavailable', `${chain.name}: ${(e as Error).message}`.slice(0, 500));
    }
  }

  /** `chain-watcher.proving-miner`: the miner's proving state from its chain's node, now. */
  async miner(minerId: string): Promise<ProvingMinerView> {
    const chain = this.chainOf(minerId);
    const client = new LotusClient({ ...this.clientAuth(), endpoints: chain.endpoints.map(httpUrlOf), timeoutMs: this.deps.rpcTimeoutMs });
    try {
      const dl = parseDeadlineInfo(await client.call('Filecoin.StateMinerProvingDeadline', [minerId, []]));
      const posted = parseDeadlines(await client.call('Filecoin.StateMinerDeadlines', [minerId, []]));
      const deadlines: ProvingMinerView['deadlines'] = [];
      for (let index = 0; index < dl.periodDeadlines; index++) {
        const parts = parsePartitions(await client.call('Filecoin.StateMinerPartitions', [minerId, index, []]));
        deadlines.push({
          index,
          partitions: parts.map((p, partition) => ({ partition, sectors: p.live.length, active: p.active.length, faulty: p.faulty, recovering: p.recovering })),
          provenPartitions: posted[index] ?? [],
        });
      }
      return {
        chainId: chain.name,
        minerId,
        currentEpoch: dl.currentEpoch,
        periodStart: dl.periodStart,
        deadlineIndex: dl.index,
        open: dl.open,
        close: dl.close,
        challenge: dl.challenge,
        faultCutoff: dl.faultCutoff,
        periodDeadlines: dl.periodDeadlines,
        provingPeriod: dl.provingPeriod,
        challengeWindow: dl.challengeWindow,
        deadlines,
      };
    } catch (e) {
      if (e instanceof CommandFailure) throw e;
      throw new CommandFailure('unavailable', `${chain.name}: ${(e as Error).message}`.slice(0, 500));
    }
  }
}
