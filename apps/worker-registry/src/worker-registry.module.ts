// Nest shell of the worker-registry: FleetCoreModule (NATS, event store, command bus, relay), the
// runtime over it (loaded before the transport starts serving), and the command controller.
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { FLEET_CORE, FleetCoreModule, type FleetCore } from '@fleetvisor/messaging';
import type { WorkerRegistryConfig } from './config';
import { WorkerRegistryRuntime } from './registry/runtime';
import { WORKER_REGISTRY_RUNTIME, WorkerRegistryController } from './worker-registry.controller';

/** Starts the runtime with the app and stops it before the core closes. */
class RuntimeLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(WORKER_REGISTRY_RUNTIME) private readonly runtime: WorkerRegistryRuntime) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}

@Module({})
export class WorkerRegistryModule {
  static forRoot(config: WorkerRegistryConfig, opts: { relay?: boolean; onLeadershipLost?: () => void } = {}): DynamicModule {
    return {
      module: WorkerRegistryModule,
      imports: [FleetCoreModule.forRoot({ serviceName: 'worker-registry', config: config.core, relay: opts.relay ?? true, poolSize: config.registry.poolSize })],
      controllers: [WorkerRegistryController],
      providers: [
        {
          provide: WORKER_REGISTRY_RUNTIME,
          useFactory: (core: FleetCore) =>
            new WorkerRegistryRuntime(core, config.registry, opts.onLeadershipLost ? { onLeadershipLost: opts.onLeadershipLost } : {}),
          inject: [FLEET_CORE],
        },
        RuntimeLifecycle,
      ],
    };
  }
}
