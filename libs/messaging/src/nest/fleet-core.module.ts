// FleetCoreModule: the one module every Fleetvisor app imports (global, so feature modules inject
// its providers without wiring). A thin shell over FleetCore: Nest resolves FLEET_CORE once
// (connect, streams, schema), exposes its parts under the tokens, starts background work on
// bootstrap and closes everything on application shutdown.
import { Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { EventIntake } from '../event-intake';
import { FleetCore, type FleetCoreOptions } from '../fleet-core';
import { EventIntakeController } from './event-intake.controller';
import {
  FLEET_CHECKPOINT_STORE,
  FLEET_COMMAND_BUS,
  FLEET_CONFIG,
  FLEET_CORE,
  FLEET_EVENT_CONSUMERS,
  FLEET_EVENT_STORE,
  FLEET_EVENT_STORE_CONNECTION,
  FLEET_JETSTREAM,
  FLEET_JETSTREAM_MANAGER,
  FLEET_LOGGER,
  FLEET_NATS,
  FLEET_OUTBOX_RELAY,
  FLEET_PG_POOL,
  FLEET_SUBJECTS,
} from './tokens';

/** Lifecycle of the core, as a provider so Nest calls its hooks. */
class FleetCoreLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly core: FleetCore) {}

  async onApplicationBootstrap(): Promise<void> {
    this.core.start();
    await this.core.serveHealth();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.core.close();
  }
}

const FLEET_CORE_LIFECYCLE = 'FLEET_CORE_LIFECYCLE';

function part<T>(token: string, pick: (core: FleetCore) => T): Provider {
  return { provide: token, useFactory: pick, inject: [FLEET_CORE] };
}

export interface FleetCoreModuleOptions extends FleetCoreOptions {
  /**
   * Serve the central event intake (<root>.cmd.event-intake.append.<host>): hosts, which hold no
   * database credentials, send their events here (ADR 0006). Every replica that enables it joins
   * one queue group.
   */
  eventIntake?: boolean;
}

@Module({})
export class FleetCoreModule {
  static forRoot(options: FleetCoreModuleOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: FLEET_CORE, useFactory: () => FleetCore.open(options) },
      { provide: FLEET_CORE_LIFECYCLE, useFactory: (core: FleetCore) => new FleetCoreLifecycle(core), inject: [FLEET_CORE] },
      part(FLEET_CONFIG, (c) => c.config),
      part(FLEET_LOGGER, (c) => c.logger),
      part(FLEET_SUBJECTS, (c) => c.subjects),
      part(FLEET_NATS, (c) => c.nc),
      part(FLEET_JETSTREAM, (c) => c.js),
      part(FLEET_JETSTREAM_MANAGER, (c) => c.jsm),
      part(FLEET_PG_POOL, (c) => c.pool),
      part(FLEET_EVENT_STORE_CONNECTION, (c) => c.eventStore),
      part(FLEET_EVENT_STORE, (c) => c.store),
      part(FLEET_CHECKPOINT_STORE, (c) => c.checkpoints),
      part(FLEET_COMMAND_BUS, (c) => c.commands),
      part(FLEET_EVENT_CONSUMERS, (c) => c.consumers),
      part(FLEET_OUTBOX_RELAY, (c) => c.relay ?? null),
    ];
    if (options.eventIntake) providers.push({ provide: EventIntake, useFactory: (c: FleetCore) => new EventIntake({ store: c.store, logger: c.logger }), inject: [FLEET_CORE] });
    return {
      module: FleetCoreModule,
      global: true,
      providers,
      ...(options.eventIntake ? { controllers: [EventIntakeController] } : {}),
      exports: providers.map((p) => (p as { provide: unknown }).provide).filter((t) => t !== FLEET_CORE_LIFECYCLE) as string[],
    };
  }
}
