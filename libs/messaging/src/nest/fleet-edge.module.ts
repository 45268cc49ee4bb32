// The Nest shell of an edge process (service-runner, worker-agent): FleetEdgeModule provides the
// EdgeBus (NATS without Postgres, connected in the background) instead of FleetCoreModule, and
// createFleetEdgeMicroservice starts the app on FleetTransport over it. The app boots, and its
// bootstrap hooks run, whether or not NATS answers; the handlers are bound once it does.
import { Module, type DynamicModule, type INestMicroservice, type OnApplicationBootstrap, type OnApplicationShutdown, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { EdgeBus, type EdgeBusOptions } from '../edge-bus';
import { FleetRpcExceptionFilter } from './fleet-rpc-exception.filter';
import { FleetTransport, type FleetTransportOptions } from './fleet-transport';
import { FLEET_EDGE_BUS } from './tokens';

/** Starts connecting at bootstrap (without waiting) and closes the bus at shutdown, after the transport. */
class FleetEdgeLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly bus: EdgeBus) {}

  async onApplicationBootstrap(): Promise<void> {
    void this.bus.ready();
    await this.bus.serveHealth();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

@Module({})
export class FleetEdgeModule {
  static forRoot(options: EdgeBusOptions): DynamicModule {
    return {
      module: FleetEdgeModule,
      global: true,
      providers: [
        { provide: FLEET_EDGE_BUS, useFactory: () => new EdgeBus(options) },
        { provide: FleetEdgeLifecycle, useFactory: (bus: EdgeBus) => new FleetEdgeLifecycle(bus), inject: [FLEET_EDGE_BUS] },
      ],
      exports: [FLEET_EDGE_BUS],
    };
  }
}

type NestContextOptions = NonNullable<Parameters<typeof NestFactory.createApplicationContext>[1]>;
// Nest's own type for provider tokens of an async factory.
type InjectToken = NonNullable<AsyncMicroserviceOptions['inject']>[number];

export interface FleetEdgeMicroserviceOptions {
  /** Transport options, made from providers of the app when they depend on its configuration. */
  transport: FleetTransportOptions | { inject: InjectToken[]; useFactory: (...deps: never[]) => FleetTransportOptions };
  /** Nest options; `abortOnError` defaults to false (a start-up failure rejects with its message). */
  nest?: NestContextOptions;
}

/**
 * The edge app as a Nest microservice on FleetTransport over the EdgeBus of FleetEdgeModule (which
 * the app module must import), not yet listening. Registers FleetRpcExceptionFilter.
 */
export async function createFleetEdgeMicroservice(appModule: Type<unknown> | DynamicModule, options: FleetEdgeMicroserviceOptions): Promise<INestMicroservice> {
  const t = options.transport;
  const inject: InjectToken[] = 'useFactory' in t ? t.inject : [];
  const make = 'useFactory' in t ? (t.useFactory as (...deps: unknown[]) => FleetTransportOptions) : () => t;
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(appModule, {
    abortOnError: false,
    ...options.nest,
    inject: [FLEET_EDGE_BUS, ...inject],
    useFactory: (bus: EdgeBus, ...deps: unknown[]) => ({ strategy: new FleetTransport(bus, make(...deps)) }),
  });
  app.useGlobalFilters(new FleetRpcExceptionFilter());
  return app;
}
