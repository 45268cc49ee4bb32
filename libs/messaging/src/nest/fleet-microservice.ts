// How a Fleetvisor service's main.ts starts: a Nest microservice whose transport is FleetTransport.
//
// One FleetCore per process. The transport does not open a core of its own: it is created by an
// async microservice factory with `inject: [FLEET_CORE]`. NestFactory.createMicroservice first
// builds the module graph, so FleetCoreModule has opened the core (NATS, streams, event store)
// before the factory runs; Nest then resolves FLEET_CORE from the container and the transport
// binds its handlers to that same core on listen(). The module keeps owning the core: on
// app.close() (or a shutdown signal) Nest closes the transport first (command servers and
// consumers stop, work in progress finishes), then the module's shutdown hook closes the core.
import { Module, type DynamicModule, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import type { FleetCore } from '../fleet-core';
import { FleetCoreModule, type FleetCoreModuleOptions } from './fleet-core.module';
import { FleetRpcExceptionFilter } from './fleet-rpc-exception.filter';
import { FleetTransport, type FleetTransportOptions } from './fleet-transport';
import { FLEET_CORE } from './tokens';

/**
 * `NestFactory.createMicroservice(AppModule, fleetMicroserviceOptions({ serviceName }))`: the
 * transport over the FleetCore of FleetCoreModule, which AppModule must import.
 */
export function fleetMicroserviceOptions(options: FleetTransportOptions): AsyncMicroserviceOptions {
  return {
    inject: [FLEET_CORE],
    useFactory: (core: FleetCore) => ({ strategy: new FleetTransport(core, options) }),
  };
}

type NestContextOptions = NonNullable<Parameters<typeof NestFactory.createApplicationContext>[1]>;

export interface FleetMicroserviceOptions extends Omit<FleetTransportOptions, 'serviceName'> {
  /**
   * FleetCoreModule.forRoot(core) is imported next to the app module. Leave it out when the app
   * module imports FleetCoreModule.forRoot itself (never both: that would open two cores).
   */
  core?: FleetCoreModuleOptions;
  /** Prefix of default durable consumer names (default `core.serviceName`). */
  serviceName?: string;
  /**
   * Nest options (logger, bufferLogs, ...). `abortOnError` defaults to false: a start-up failure
   * (NATS or Postgres unreachable) rejects with its message instead of aborting the process.
   */
  nest?: NestContextOptions;
}

@Module({})
class FleetMicroserviceRootModule {}

/**
 * The service's Nest microservice on the Fleetvisor bus, not yet listening: add global pipes or
 * guards if needed, `enableShutdownHooks()`, then `listen()`. Registers FleetRpcExceptionFilter.
 */
export async function createFleetMicroservice(appModule: Type<unknown> | DynamicModule, options: FleetMicroserviceOptions): Promise<INestMicroservice> {
  const { core, serviceName = core?.serviceName, nest, ...transport } = options;
  if (!serviceName) throw new Error('createFleetMicroservice: give serviceName (or core options, whose serviceName is used)');
  const root: Type<unknown> | DynamicModule = core ? { module: FleetMicroserviceRootModule, imports: [FleetCoreModule.forRoot(core), appModule] } : appModule;
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(root, {
    abortOnError: false,
    ...nest,
    ...fleetMicroserviceOptions({ ...transport, serviceName }),
  });
  app.useGlobalFilters(new FleetRpcExceptionFilter());
  return app;
}

/**
 * Starts serving. When that fails (a server unreachable, a pattern refused), what the app opened
 * (its core, its connections) is closed before the error goes on, so a failed start leaves no
 * handle behind to keep the process alive.
 */
export async function listenOrClose<A extends INestMicroservice>(app: A): Promise<A> {
  try {
    await app.listen();
  } catch (e) {
    await app.close();
    throw e;
  }
  return app;
}
