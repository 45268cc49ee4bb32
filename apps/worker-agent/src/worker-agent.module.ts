// Nest shell of the worker-agent: FleetEdgeModule (NATS only, possibly down at start), the thread
// source and the agent over it, and the command controller. startWorkerAgent is the one
// composition root: `fleetvisor worker-agent run` and the tests start the agent through it.
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type INestMicroservice, type OnApplicationBootstrap } from '@nestjs/common';
import { commandTrustOf, createFleetEdgeMicroservice, FLEET_EDGE_BUS, FleetEdgeModule, type EdgeBus, type FleetTransport, listenOrClose } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import type { WorkerAgentConfig } from './config';
import { registerAgentMetrics } from './agent-metrics';
import { createThreadSource } from './create-source';
import type { ThreadSource } from './sources/thread-source';
import { WorkerAgent } from './worker-agent';
import { PROVING_CHECK, WORKER_AGENT, WorkerAgentController } from './worker-agent.controller';
import { ProvingCheck } from './proving/proving-check';
import { SectorChecker } from './proving/sector-checker';

export const THREAD_SOURCE = 'THREAD_SOURCE';

/** Starts the agent with the app (the source runs whether or not NATS answers) and stops it on shutdown. */
class AgentLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(WORKER_AGENT) private readonly agent: WorkerAgent) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.agent.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.agent.stop();
  }
}

@Module({})
export class WorkerAgentModule {
  /** With `source`, that thread source; otherwise the one the configuration asks for. */
  static forRoot(config: WorkerAgentConfig, opts: { logger: Logger; source?: ThreadSource }): DynamicModule {
    const { logger } = opts;
    return {
      module: WorkerAgentModule,
      imports: [
        FleetEdgeModule.forRoot({
          serviceName: 'worker-agent',
          config: config.core,
          logger,
          commandTrust: commandTrustOf(config.trust, 'worker-agent', { verifies: true, signs: false }),
        }),
      ],
      controllers: [WorkerAgentController],
      providers: [
        {
          provide: THREAD_SOURCE,
          useFactory: (): ThreadSource => opts.source ?? createThreadSource(config, logger),
        },
        {
          provide: WORKER_AGENT,
          useFactory: (source: ThreadSource, edge: EdgeBus) => {
            const agent = new WorkerAgent({
              name: config.name,
              dest: config.dest,
              source,
              logger,
              reportIntervalMs: config.reportIntervalMs,
              reportTimeoutMs: config.reportTimeoutMs,
              maxPendingTransitions: config.maxPendingTransitions,
              bus: () => edge.current?.commands,
            });
            registerAgentMetrics(edge.health.registry, agent);
            return agent;
          },
          inject: [THREAD_SOURCE, FLEET_EDGE_BUS],
        },
        {
          provide: PROVING_CHECK,
          useFactory: () => {
            logger.info({ stores: config.stores }, config.stores.length === 0 ? 'no sector stores configured: proving check finds no sector here' : 'sector stores for proving check');
            return new ProvingCheck(config.name, new SectorChecker({ stores: config.stores, sectorTimeoutMs: config.sectorCheckTimeoutMs }));
          },
        },
        AgentLifecycle,
      ],
    };
  }
}

export interface RunningWorkerAgent {
  app: INestMicroservice;
  agent: WorkerAgent;
  /** Resolves once the agent's commands are served (NATS answered). */
  connected: Promise<void>;
}

/** The agent as a Nest microservice on the bus, listening (without waiting for NATS). */
export async function startWorkerAgent(config: WorkerAgentConfig, opts: { logger: Logger; source?: ThreadSource }): Promise<RunningWorkerAgent> {
  const app = await createFleetEdgeMicroservice(WorkerAgentModule.forRoot(config, opts), {
    transport: { serviceName: 'worker-agent', instance: config.name },
    nest: { logger: false },
  });
  await listenOrClose(app);
  const agent = app.get<WorkerAgent>(WORKER_AGENT);
  const transport = app.getTransportServer() as FleetTransport;
  const connected = transport.bound().then(() => agent.serving(transport.bindings().commands[0]?.subject.replace(/\.[^.]+$/, '.*') ?? ''));
  return { app, agent, connected };
}
