// The chain-watcher of one process: for every configured chain a leadership (one replica acts per
// chain) whose leader runs a ChainMonitor; what `chain-watcher.status` answers (any replica: what
// it leads itself, and each other chain's leader asked over the bus); health for /healthz. Plain
// class: the Nest module builds it from its seams, the controller calls it.
import { ChainLeaderStatus, type ChainStatusEntry, type EventEnvelope } from '@fleetvisor/contracts';
import type { CheckpointStore, CommandHandlerStore, LeaderLock } from '@fleetvisor/event-store';
import { CommandFailure, type CommandBus } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import type { ChainWatcherConfig } from './config';
import type { ChainConnector } from './connection/chain-rpc';
import { ChainLeadership } from './leadership/chain-leadership';
import { latestVersionChanged } from './recording/chain-log';
import { ChainMonitor, type ChainMetricsSink } from './monitor/chain-monitor';
import type { RolloutCoordinator } from './rollout/rollout-coordinator';

/** The leader lock of a name (a Postgres advisory lock on its own connection). */
export type LeaderLocks = (name: string, opts: { healthCheckIntervalMs: number }) => LeaderLock;

/** The chain client of a chain. */
export type ChainConnectors = (chainId: string) => ChainConnector;

export interface ChainWatcherDeps {
  config: ChainWatcherConfig;
  /** The event store, for the streams chain-<chainId>. */
  store: CommandHandlerStore;
  /** Where each chain's scanned height is kept. */
  checkpoints: CheckpointStore;
  leaderLock: LeaderLocks;
  commands: Pick<CommandBus, 'serve' | 'request'>;
  logger: Logger;
  metrics: ChainMetricsSink & { isLeader(chainId: string, leading: boolean): void };
  connector: ChainConnectors;
  /** Fleet-wide rollouts (ADR 0009): the leader of each chain drives its rollout. */
  rollouts?: RolloutCoordinator;
}

export interface ChainHealth {
  chainId: string;
  leader: boolean;
  problems: string[];
}

export interface WatcherHealth {
  status: 'ok' | 'degraded';
  host: string;
  chains: ChainHealth[];
  reasons: string[];
}

export const chainLockName = (chainId: string): string => `chain-watcher:${chainId}`;

export class ChainWatcher {
  private readonly leaderships = new Map<string, ChainLeadership>();
  private readonly monitors = new Map<string, ChainMonitor>();
  private readonly log: Logger;

  constructor(private readonly deps: ChainWatcherDeps) {
    this.log = deps.logger.child({ component: 'chain-watcher' });
  }

  async start(): Promise<void> {
    const { config } = this.deps;
    for (const chain of config.chains) {
      const connector = this.deps.connector(chain.chainId);
      const leadership = new ChainLeadership({
        chainId: chain.chainId,
        lock: this.deps.leaderLock(chainLockName(chain.chainId), { healthCheckIntervalMs: config.leaderHealthCheckMs }),
        retryMs: config.leaderRetryMs,
        logger: this.log,
        onChange: (leading) => this.deps.metrics.isLeader(chain.chainId, leading),
        lead: async () => {
          const monitor = new ChainMonitor({
            chainId: chain.chainId,
            endpoints: chain.endpoints,
            connector,
            store: this.deps.store,
            signer: config.signer,
            checkpoints: this.deps.checkpoints,
            settings: {
              safetyNetBlocks: config.safetyNetBlocks,
              pollIntervalMs: config.pollIntervalMs,
              wsRetryMinMs: Math.min(100, config.wsRetryMaxMs),
              wsRetryMaxMs: config.wsRetryMaxMs,
              wsStallMs: config.wsStallMs,
              preferredProbeMs: config.preferredProbeMs,
              maxGapScan: config.maxGapScan,
              backfillRps: config.backfillRps,
            },
            logger: this.log,
            metrics: this.deps.metrics,
            host: config.core.host,
          });
          try {
            await monitor.start();
            // From here the controller's leader-status handler answers for this chain.
            this.monitors.set(chain.chainId, monitor);
          } catch (e) {
            this.monitors.delete(chain.chainId);
            await monitor.stop();
            throw e;
          }
          // The rollout's clock and the hosts' outcomes are the leader's to record (ADR 0009).
          const rollout = this.deps.rollouts?.drive(chain.chainId, config.rolloutTickMs);
          return {
            stop: async () => {
              this.monitors.delete(chain.chainId);
              await rollout?.stop();
              await monitor.stop();
            },
          };
        },
      });
      this.leaderships.set(chain.chainId, leadership);
    }
    for (const l of this.leaderships.values()) l.start();
    this.log.info({ chains: config.chains.map((c) => c.chainId) }, 'chain-watcher started: competing for leadership of each chain');
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.leaderships.values()].map((l) => l.stop()));
  }

  /** The chains this replica is configured to watch. */
  chainIds(): string[] {
    return this.deps.config.chains.map((c) => c.chainId);
  }

  isLeader(chainId: string): boolean {
    return this.leaderships.get(chainId)?.isLeader === true;
  }

  /** Local view of a chain this replica leads (undefined otherwise). */
  localStatus(chainId: string): ChainStatusEntry | undefined {
    return this.monitors.get(chainId)?.status();
  }

  /** What `fleetvisor chain status` shows: every chain (or one) as its leader sees it. */
  /** `chain-watcher.version-event`: the newest VersionChanged of any chain, from the log (any replica answers). */
  async versionEvent(chainId: string): Promise<{ chainId: string; event?: EventEnvelope }> {
    const event = await latestVersionChanged(this.deps.store, chainId);
    return { chainId, ...(event ? { event } : {}) };
  }

  async status(chainId?: string): Promise<{ chains: ChainStatusEntry[] }> {
    const ids = chainId ? [chainId] : this.deps.config.chains.map((c) => c.chainId);
    if (chainId && !this.leaderships.has(chainId)) {
      const remote = await this.deps.commands.request(ChainLeaderStatus, { chainId }, { timeoutMs: 2_000 });
      if (!remote.ok || !remote.result) throw new CommandFailure('not_found', `chain ${chainId} is not watched (watched: ${[...this.leaderships.keys()].join(', ')})`);
      return { chains: [remote.result] };
    }
    const chains = await Promise.all(
      ids.map(async (id): Promise<ChainStatusEntry> => {
        const local = this.localStatus(id);
        if (local) return local;
        const remote = await this.deps.commands.request(ChainLeaderStatus, { chainId: id }, { timeoutMs: 2_000 });
        if (remote.ok && remote.result) return remote.result;
        return { chainId: id, mode: 'no_leader', wsConnected: false, rpcErrors: 0, problems: [`no replica leads this chain: ${remote.ok ? 'empty reply' : remote.error.message}`.slice(0, 500)] };
      }),
    );
    return { chains };
  }

  /** Degraded when a chain this replica leads has problems. Standing by is healthy. */
  health(): WatcherHealth {
    const chains: ChainHealth[] = this.deps.config.chains.map((c) => {
      const m = this.monitors.get(c.chainId);
      return { chainId: c.chainId, leader: m !== undefined, problems: m?.problems() ?? [] };
    });
    const reasons = chains.flatMap((c) => c.problems.map((p) => `${c.chainId}: ${p}`));
    return { status: reasons.length === 0 ? 'ok' : 'degraded', host: this.deps.config.core.host, chains, reasons };
  }
}
