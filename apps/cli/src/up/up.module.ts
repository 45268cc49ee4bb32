// The Nest application `fleetvisor up` runs: the shared core (schema, streams, NATS, relay).
// Services (chain-watcher, worker-registry, ...) join this list as they land.
import { Module, type DynamicModule } from '@nestjs/common';
import { FleetCoreModule } from '@fleetvisor/messaging';
import type { CoreConfig, Logger } from '@fleetvisor/platform';
import type { SchemaMigrations } from '@fleetvisor/event-store';

@Module({})
export class UpModule {
  static register(config: CoreConfig, logger: Logger, schemaMigrations: SchemaMigrations): DynamicModule {
    return {
      module: UpModule,
      imports: [FleetCoreModule.forRoot({ serviceName: 'fleetvisor-up', config, logger, relay: true, migrations: 'apply', schemaMigrations })],
    };
  }
}
