// Nest shell of the stats-collector and its one composition root: FleetCoreModule (NATS, event
// store, relay), the collector's plain classes as providers, and the query controller. The
// collector catches its projection up before the transport serves queries; on shutdown the
// transport stops first, then the collector, then the core.
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { FLEET_CORE, FleetCoreModule, type FleetCore } from '@fleetvisor/messaging';
import type { StatsCollectorConfig } from './config';
import { MIGRATIONS } from './migrations';
import { StatsQueries } from './query/stats-queries';
import { StatsCollector } from './stats-collector';
import { StatsCollectorController } from './stats-collector.controller';
import { bandSettings, collectorParts } from './parts';
import { WATCHED_METHODS_NAME } from './anomaly/band-watcher';

export interface StatsCollectorModuleOptions {
  /** Take part in the outbox relay election (default true). */
  relay?: boolean;
  /** Time source (tests move it). */
  clock?: () => number;
}

export class CollectorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(StatsCollector) private readonly collector: StatsCollector) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.collector.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.collector.stop();
  }
}

@Module({})
export class StatsCollectorModule {
  static forRoot(config: StatsCollectorConfig, opts: StatsCollectorModuleOptions = {}): DynamicModule {
    return {
      module: StatsCollectorModule,
      imports: [FleetCoreModule.forRoot({ serviceName: 'stats-collector', config: config.core, relay: opts.relay ?? true, poolSize: config.stats.poolSize, schemaMigrations: MIGRATIONS })],
      controllers: [StatsCollectorController],
      providers: [
        {
          provide: StatsQueries,
          useFactory: (core: FleetCore) =>
            new StatsQueries(core.pool, { band: bandSettings(config.stats), methods: config.stats.anomalyMethods.source, methodsName: WATCHED_METHODS_NAME, ...(opts.clock ? { clock: opts.clock } : {}) }),
          inject: [FLEET_CORE],
        },
        {
          provide: StatsCollector,
          useFactory: (core: FleetCore) => {
            const collector = new StatsCollector({
              pool: core.pool,
              store: core.store,
              logger: core.logger,
              settings: config.stats,
              host: core.config.host,
              ...(opts.clock ? { clock: opts.clock } : {}),
            });
            for (const part of collectorParts(collector, core, config.stats, opts.clock)) collector.add(part);
            return collector;
          },
          inject: [FLEET_CORE],
        },
        CollectorLifecycle,
      ],
    };
  }
}
