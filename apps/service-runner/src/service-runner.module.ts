// Nest shell of the service-runner: FleetEdgeModule (NATS only, possibly down at start; the log
// is the runner's own pool, optional at every moment), the Runner as a provider, started with the
// app and stopped before the bus closes, and the bus handlers. startServiceRunner is the one
// composition root: `fleetvisor start`, `fleetvisor wrap` and the tests start the runner through it.
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type INestMicroservice, type OnApplicationBootstrap } from '@nestjs/common';
import { commandRefusalReport, commandTrustOf, createFleetEdgeMicroservice, FLEET_EDGE_BUS, FleetEdgeModule, type EdgeBus, type FleetTransport, type FleetTransportOptions, listenOrClose } from '@fleetvisor/messaging';
import { requireTrustRoots } from '@fleetvisor/trust';
import { registerRunnerMetrics } from './metrics/runner-metrics';
import { Runner, validHost, type RunnerOptions } from './runner';
import { RUNNER, ServicesController, VersionController } from './service-runner.controller';

class RunnerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(RUNNER) private readonly runner: Runner) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}

export type ServiceRunnerSettings = Omit<RunnerOptions, 'bus'>;

@Module({})
export class ServiceRunnerModule {
  static forRoot(opts: ServiceRunnerSettings): DynamicModule {
    const follows = opts.wrapped === undefined || opts.followChain === true;
    // One verifier for commands and chain events (the revocations the runner hears apply to both);
    // refused commands are reported by the runner like refused chain events.
    let runner: Runner | undefined;
    const trust = commandTrustOf(opts.config.trust, 'service-runner', {
      verifies: true,
      signs: false,
      // The runner watches the revocations itself (chain events wait for them), with this verifier.
      watchRevocations: false,
      onRefused: (r) => runner?.refusals.refuse(commandRefusalReport(r)),
    });
    return {
      module: ServiceRunnerModule,
      imports: [
        FleetEdgeModule.forRoot({
          serviceName: 'service-runner',
          config: { ...opts.config.core, host: validHost(opts.config.core.host) },
          logger: opts.logger,
          eventStream: true,
          commandTrust: trust,
        }),
      ],
      controllers: follows ? [ServicesController, VersionController] : [ServicesController],
      providers: [
        {
          provide: RUNNER,
          useFactory: (bus: EdgeBus) => {
            runner = new Runner({ ...opts, bus, ...(trust.verifier ? { verifier: trust.verifier } : {}) });
            registerRunnerMetrics(bus.health.registry, runner);
            return runner;
          },
          inject: [FLEET_EDGE_BUS],
        },
        RunnerLifecycle,
      ],
    };
  }
}

/** The transport's settings from the runner: its host is the instance, and with its chain they name the VersionChanged consumer. */
export function runnerTransportOptions(runner: Runner): FleetTransportOptions {
  return {
    serviceName: 'service-runner',
    instance: runner.host,
    placeholders: { host: runner.host, ...(runner.chainId !== undefined ? { chainId: runner.chainId } : {}) },
  };
}

export interface RunningServiceRunner {
  app: INestMicroservice;
  runner: Runner;
  /** Resolves once the handlers are bound (NATS answered). */
  bound: Promise<void>;
  /** Stops the runner (the reason goes into ServiceStopped), then the app and the bus. */
  close(reason?: string): Promise<void>;
}

/**
 * The runner as a Nest microservice, its services started, listening (without waiting for NATS).
 * `beforeStart` sees the runner made but not started (to observe its first events).
 */
export async function startServiceRunner(opts: ServiceRunnerSettings, hooks: { beforeStart?: (runner: Runner) => void } = {}): Promise<RunningServiceRunner> {
  // Said before anything starts, as the configuration error it is (the Runner checks it again).
  if (opts.wrapped === undefined) requireTrustRoots(opts.config.trust, 'the service-runner');
  const app = await createFleetEdgeMicroservice(ServiceRunnerModule.forRoot(opts), {
    transport: { inject: [RUNNER], useFactory: (runner: Runner) => runnerTransportOptions(runner) },
    nest: { logger: false },
  });
  const runner = app.get<Runner>(RUNNER);
  try {
    hooks.beforeStart?.(runner);
  } catch (e) {
    await app.close();
    throw e;
  }
  await listenOrClose(app);
  return {
    app,
    runner,
    bound: (app.getTransportServer() as FleetTransport).bound(),
    close: async (reason) => {
      await runner.stop(reason);
      await app.close();
    },
  };
}
