// The Nest shell of the chain-watcher: FleetCoreModule (log, bus, relay) plus one service that
// builds the plain ChainWatcher from the core's parts, and the health/metrics HTTP server.
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { FLEET_CORE, FleetCoreModule, type FleetCore } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import { ChainWatcher } from './chain-watcher';
import type { ChainWatcherConfig } from './config';
import { startHealthServer, type HealthHttpServer } from './health/http-server';
import { ChainWatcherMetrics } from './health/metrics';

export const CHAIN_WATCHER_CONFIG = 'CHAIN_WATCHER_CONFIG';

@Injectable()
export class ChainWatcherService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly metrics = new ChainWatcherMetrics();
  readonly watcher: ChainWatcher;
  private http: HealthHttpServer | undefined;

  constructor(
    @Inject(FLEET_CORE) private readonly core: FleetCore,
    @Inject(CHAIN_WATCHER_CONFIG) private readonly config: ChainWatcherConfig,
  ) {
    this.watcher = new ChainWatcher({
      config,
      store: core.store,
      leaderLock: (name, opts) => core.eventStore.leaderLock(name, opts),
      commands: core.commands,
      logger: core.logger,
      metrics: this.metrics,
    });
  }

  get httpPort(): number | undefined {
    return this.http?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.http = await startHealthServer({
      host: this.config.httpHost,
      port: this.config.httpPort,
      health: () => this.watcher.health(),
      registry: this.metrics.registry,
      logger: this.core.logger,
    });
    await this.watcher.start();
  }

  // Before the core closes (its onApplicationShutdown): leadership and locks go first.
  async beforeApplicationShutdown(): Promise<void> {
    await this.watcher.stop();
    await this.http?.close();
  }
}

@Module({})
export class ChainWatcherModule {
  static register(config: ChainWatcherConfig, logger: Logger): DynamicModule {
    return {
      module: ChainWatcherModule,
      imports: [FleetCoreModule.forRoot({ serviceName: 'chain-watcher', config: config.core, logger, relay: config.relay, migrations: 'apply' })],
      providers: [{ provide: CHAIN_WATCHER_CONFIG, useValue: config }, ChainWatcherService],
      exports: [ChainWatcherService],
    };
  }
}
