// The Nest shell of the chain-watcher, its one composition root: FleetCoreModule (log, bus, relay),
// the seams (chain client, chain log, scan checkpoints, leader locks) as providers, the plain ChainWatcher built from
// them, the lifecycle that starts it with the health/metrics HTTP server, and the controller that
// serves its commands on the Fleet transport. Tests override the seams by their tokens.
import { Inject, Module, Optional, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { CheckpointStore, CommandHandlerStore, EventStoreConnection } from '@fleetvisor/event-store';
import {
  FLEET_CHECKPOINT_STORE,
  FLEET_COMMAND_BUS,
  FLEET_EVENT_STORE,
  FLEET_EVENT_STORE_CONNECTION,
  FLEET_LOGGER,
  EventIntake,
  FleetCoreModule,
  type CommandBus,
  type FleetCoreOptions,
} from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import { TrustVerifier } from '@fleetvisor/trust';
import { ChainWatcher, type ChainConnectors, type LeaderLocks, type WatcherHealth } from './chain-watcher';
import { ChainWatcherController, RolloutOperatorController } from './chain-watcher.controller';
import type { ChainWatcherConfig } from './config';
import type { RpcMethod } from './connection/chain-rpc';
import { CosmjsConnector } from './connection/cosmjs-connector';
import { startHealthServer, type HealthHttpServer } from './health/http-server';
import { ChainWatcherMetrics } from './health/metrics';
import { ProvingController } from './proving/proving.controller';
import { ProvingWatcher } from './proving/proving-watcher';
import { RolloutCoordinator } from './rollout/rollout-coordinator';

export const CHAIN_WATCHER_CONFIG = 'CHAIN_WATCHER_CONFIG';
/** ChainConnectors: the chain client of each chain (CosmJS against its endpoints). */
export const CHAIN_CONNECTORS = 'CHAIN_CONNECTORS';
/** CommandHandlerStore: the streams chain-<chainId> (the Postgres event log's readStream and appendToStream). */
export const CHAIN_LOG = 'CHAIN_LOG';
/** CheckpointStore: how far each chain has been scanned (fv_checkpoints). */
export const CHAIN_SCAN_CHECKPOINTS = 'CHAIN_SCAN_CHECKPOINTS';
/** LeaderLocks: one leader lock per chain (Postgres advisory locks). */
export const CHAIN_LEADER_LOCKS = 'CHAIN_LEADER_LOCKS';

/** Starts the watcher and the health/metrics server with the app; stops them before the core closes. */
export class ChainWatcherLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private http: HealthHttpServer | undefined;

  constructor(
    @Inject(ChainWatcher) private readonly watcher: ChainWatcher,
    @Inject(ChainWatcherMetrics) private readonly metrics: ChainWatcherMetrics,
    @Inject(CHAIN_WATCHER_CONFIG) private readonly config: ChainWatcherConfig,
    @Inject(FLEET_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(ProvingWatcher) private readonly proving?: ProvingWatcher,
  ) {}

  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /** The Lava watch's health, degraded too by a problem of a proving watch this replica leads. */
  private health(): WatcherHealth {
    const h = this.watcher.health();
    const proving = this.proving?.status().flatMap((s) => s.problems.map((p) => `filecoin ${s.chainId}: ${p}`)) ?? [];
    return proving.length === 0 ? h : { ...h, status: 'degraded', reasons: [...h.reasons, ...proving] };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.http = await startHealthServer({
      host: this.config.httpHost,
      port: this.config.httpPort,
      health: () => this.health(),
      registry: this.metrics.registry,
      logger: this.logger,
    });
    await this.watcher.start();
    this.proving?.start();
  }

  // The transport has stopped serving by now; leadership and locks go before the core closes.
  async beforeApplicationShutdown(): Promise<void> {
    await this.watcher.stop();
    await this.proving?.stop();
    await this.http?.close();
  }
}

export interface ChainWatcherModuleOptions {
  /** Default: the core's logger, made from the configuration. */
  logger?: Logger;
  /** Outbox relay tuning (default: `config.relay`). */
  relay?: FleetCoreOptions['relay'];
  /** Process metrics (CPU, memory, event loop) on /metrics (default true). */
  defaultMetrics?: boolean;
}

@Module({})
export class ChainWatcherModule {
  static forRoot(config: ChainWatcherConfig, options: ChainWatcherModuleOptions = {}): DynamicModule {
    return {
      module: ChainWatcherModule,
      imports: [
        FleetCoreModule.forRoot({
          serviceName: 'chain-watcher',
          config: config.core,
          ...(options.logger ? { logger: options.logger } : {}),
          relay: options.relay ?? config.relay,
          migrations: 'apply',
          // The hosts' events reach the log through the central services (ADR 0006); the watcher's
          // replicas share the intake's queue group with the registry's.
          eventIntake: true,
          // Operators' signed commands (rollout resume / abort, ADR 0009) are verified against the
          // fleet's roots; without roots they are not served (nobody could be verified).
          ...(config.trustRoots.length > 0 ? { commandTrust: { auth: { verifier: new TrustVerifier(config.trustRoots) } } } : {}),
        }),
      ],
      controllers: [
        ...(config.trustRoots.length > 0 ? [ChainWatcherController, RolloutOperatorController] : [ChainWatcherController]),
        // The Filecoin proving watch (FLEETVISOR_FILECOIN_CHAINS), when configured.
        ...(config.filecoin ? [ProvingController] : []),
      ],
      providers: [
        { provide: CHAIN_WATCHER_CONFIG, useValue: config },
        {
          provide: ChainWatcherMetrics,
          useFactory: (intake: EventIntake | undefined) => {
            const metrics = new ChainWatcherMetrics({ defaultMetrics: options.defaultMetrics ?? true });
            // The hosts' event intake this replica serves: its refusals on /metrics.
            intake?.onRefusal((reason) => metrics.intakeRefused(reason));
            return metrics;
          },
          inject: [{ token: EventIntake, optional: true }],
        },
        {
          provide: CHAIN_CONNECTORS,
          useFactory: (metrics: ChainWatcherMetrics): ChainConnectors => (chainId) =>
            new CosmjsConnector({ timeoutMs: config.rpcTimeoutMs, onCall: (_endpoint, method) => metrics.rpcCall(chainId, method) }),
          inject: [ChainWatcherMetrics],
        },
        { provide: CHAIN_LOG, useFactory: (store: CommandHandlerStore): CommandHandlerStore => store, inject: [FLEET_EVENT_STORE] },
        { provide: CHAIN_SCAN_CHECKPOINTS, useFactory: (checkpoints: CheckpointStore): CheckpointStore => checkpoints, inject: [FLEET_CHECKPOINT_STORE] },
        {
          provide: CHAIN_LEADER_LOCKS,
          useFactory: (connection: EventStoreConnection): LeaderLocks => (name, opts) => connection.leaderLock(name, opts),
          inject: [FLEET_EVENT_STORE_CONNECTION],
        },
        {
          provide: RolloutCoordinator,
          useFactory: (store: CommandHandlerStore, logger: Logger) => new RolloutCoordinator({ store, policies: config.rollout, host: config.core.host, logger }),
          inject: [CHAIN_LOG, FLEET_LOGGER],
        },
        {
          provide: ChainWatcher,
          useFactory: (
            store: CommandHandlerStore,
            checkpoints: CheckpointStore,
            leaderLock: LeaderLocks,
            connector: ChainConnectors,
            commands: CommandBus,
            logger: Logger,
            metrics: ChainWatcherMetrics,
            rollouts: RolloutCoordinator,
          ) => new ChainWatcher({ config, store, checkpoints, leaderLock, connector, commands, logger, metrics, rollouts }),
          inject: [CHAIN_LOG, CHAIN_SCAN_CHECKPOINTS, CHAIN_LEADER_LOCKS, CHAIN_CONNECTORS, FLEET_COMMAND_BUS, FLEET_LOGGER, ChainWatcherMetrics, RolloutCoordinator],
        },
        ...(config.filecoin
          ? [
              {
                provide: ProvingWatcher,
                useFactory: (store: CommandHandlerStore, leaderLock: LeaderLocks, logger: Logger, metrics: ChainWatcherMetrics, commands: CommandBus) =>
                  new ProvingWatcher({
                    config: config.filecoin!,
                    store,
                    leaderLock,
                    commands,
                    logger,
                    host: config.core.host,
                    rpcTimeoutMs: config.rpcTimeoutMs,
                    leaderRetryMs: config.leaderRetryMs,
                    leaderHealthCheckMs: config.leaderHealthCheckMs,
                    // The same counter as the Lava watch's calls: method is a Filecoin.* name here.
                    onRpcCall: (chain, method) => metrics.rpcCall(chain, method as RpcMethod),
                  }),
                inject: [CHAIN_LOG, CHAIN_LEADER_LOCKS, FLEET_LOGGER, ChainWatcherMetrics, FLEET_COMMAND_BUS],
              },
            ]
          : []),
        ChainWatcherLifecycle,
      ],
    };
  }
}
