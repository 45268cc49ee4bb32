// Nest shell of the worker-registry and its one composition root: FleetCoreModule (NATS, event
// store, command bus, relay, the hosts' event intake), the registry's plain classes as providers, and the command
// controller. The registry loads (and waits for leadership) before the transport serves commands;
// on shutdown the transport stops first, then the report intake and the registry, then the core.
import { Inject, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type Provider } from '@nestjs/common';
import { commandTrustOf, FLEET_CORE, FleetCoreModule, type FleetCore } from '@fleetvisor/messaging';
import type { WorkerRegistryConfig } from './config';
import { WorkerTables } from './projection/worker-tables';
import { ForeignEvents } from './registry/foreign-events';
import { HostLiveness, lastHostEvents, watchHostEvents } from './registry/host-liveness';
import { START_CHECKPOINT } from '@fleetvisor/event-store/core';
import { LiveWorkers } from './registry/live-workers';
import { RegistryLeadership } from './registry/registry-leadership';
import { registerHostMetrics, registerRegistryMetrics } from './registry/registry-metrics';
import { RegistryStats } from './registry/registry-stats';
import { ReportIntake } from './registry/report-intake';
import { CommandRefusals } from './registry/command-refusals';
import { WorkerControl } from './registry/worker-control';
import { WorkerLiveness } from './registry/worker-liveness';
import { WorkerQueries } from './registry/worker-queries';
import { WorkerRecorder } from './registry/worker-recorder';
import { WorkerRegistry } from './registry/worker-registry';
import { WorkerReports } from './registry/worker-reports';
import { WorkerRegistryController } from './worker-registry.controller';
import { MIGRATIONS } from './migrations';

export interface WorkerRegistryModuleOptions {
  /** Take part in the outbox relay election (default true). */
  relay?: boolean;
  /** Called when this registry loses its leader lock: the service must stop. */
  onLeadershipLost?: () => void;
  /** Time source of the registry (tests move it to expire workers). */
  clock?: () => number;
  /** How the report screen thread is loaded (tests running from source give a loader; see ReportIntakeDeps). */
  screenThreadScript?: () => string;
}

/** Host liveness (expiry checks, HostOnline/HostOffline from the bus), started by RegistryLifecycle once the registry leads. */
export class HostLivenessLifecycle {
  private unwatch: (() => void) | undefined;

  constructor(
    @Inject(HostLiveness) private readonly liveness: HostLiveness,
    @Inject(FLEET_CORE) private readonly core: FleetCore,
  ) {}

  async start(): Promise<void> {
    this.unwatch = watchHostEvents(this.core.nc, this.core.subjects, this.liveness, this.core.logger);
    try {
      const restored = this.liveness.restore(await lastHostEvents(this.core.store, START_CHECKPOINT));
      if (restored > 0) this.core.logger.info({ hosts: restored }, 'host liveness: the hosts the log knows, restored');
    } catch (err) {
      // Without the log's hosts the registry still learns each from its next heartbeat.
      this.core.logger.warn({ err }, 'host liveness: could not read the hosts from the log; each is known again from its next heartbeat');
    }
    this.liveness.start();
  }

  stop(): void {
    this.liveness.stop();
    this.unwatch?.();
    this.unwatch = undefined;
  }
}

/**
 * Starts the registry (once it leads), then host liveness and the report intake, with the app;
 * stops them before the core closes. Host liveness waits for the lead like the rest: heartbeats
 * reach only the leading registry, so a standby's expiry checks would record every live host as
 * expired (and, with the leader's, each real expiry twice).
 */
export class RegistryLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(WorkerRegistry) private readonly registry: WorkerRegistry,
    @Inject(ReportIntake) private readonly intake: ReportIntake,
    @Inject(HostLivenessLifecycle) private readonly hosts: HostLivenessLifecycle,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.registry.start();
    await this.hosts.start();
    await this.intake.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.hosts.stop();
    await this.intake.stop();
    await this.registry.stop();
  }
}

function registryProviders(config: WorkerRegistryConfig, opts: WorkerRegistryModuleOptions): Provider[] {
  const s = config.registry;
  const clock = opts.clock ? { clock: opts.clock } : {};
  return [
    { provide: LiveWorkers, useFactory: () => new LiveWorkers() },
    { provide: WorkerTables, useFactory: (core: FleetCore) => new WorkerTables(core.pool), inject: [FLEET_CORE] },
    { provide: WorkerRecorder, useFactory: (core: FleetCore, live: LiveWorkers) => new WorkerRecorder(core.store, live, core.logger), inject: [FLEET_CORE, LiveWorkers] },
    {
      provide: WorkerReports,
      useFactory: (core: FleetCore, live: LiveWorkers, recorder: WorkerRecorder) => new WorkerReports(live, recorder, { host: core.config.host, ...clock }),
      inject: [FLEET_CORE, LiveWorkers, WorkerRecorder],
    },
    {
      provide: WorkerControl,
      useFactory: (core: FleetCore, live: LiveWorkers, recorder: WorkerRecorder) =>
        new WorkerControl(live, recorder, core.commands, core.store, { host: core.config.host, agentTimeoutMs: s.agentTimeoutMs, ...clock }),
      inject: [FLEET_CORE, LiveWorkers, WorkerRecorder],
    },
    {
      provide: WorkerQueries,
      useFactory: (core: FleetCore, live: LiveWorkers, tables: WorkerTables) => new WorkerQueries(live, core.store, tables, { expirationMs: s.expirationMs, ...clock }),
      inject: [FLEET_CORE, LiveWorkers, WorkerTables],
    },
    {
      provide: WorkerLiveness,
      useFactory: (core: FleetCore, live: LiveWorkers, recorder: WorkerRecorder, tables: WorkerTables) =>
        new WorkerLiveness(
          live,
          recorder,
          tables,
          { host: core.config.host, expirationMs: s.expirationMs, expiryCheckIntervalMs: s.expiryCheckIntervalMs, lastSeenFlushIntervalMs: s.lastSeenFlushIntervalMs, ...clock },
          core.logger,
        ),
      inject: [FLEET_CORE, LiveWorkers, WorkerRecorder, WorkerTables],
    },
    {
      provide: RegistryLeadership,
      useFactory: (core: FleetCore) => new RegistryLeadership(core.eventStore, core.logger, opts.onLeadershipLost ? { onLost: opts.onLeadershipLost } : {}),
      inject: [FLEET_CORE],
    },
    {
      provide: RegistryStats,
      useFactory: (core: FleetCore, live: LiveWorkers, reports: WorkerReports, recorder: WorkerRecorder) => {
        const counters = { reports: () => reports.handled, appends: () => recorder.appends, conflicts: () => recorder.conflicts, commits: () => core.store.groupCommitStats };
        registerRegistryMetrics(core.health.registry, live, counters);
        return new RegistryStats(live, counters, core.logger);
      },
      inject: [FLEET_CORE, LiveWorkers, WorkerReports, WorkerRecorder],
    },
    { provide: ForeignEvents, useFactory: (core: FleetCore, live: LiveWorkers) => new ForeignEvents(live, core.store, core.logger), inject: [FLEET_CORE, LiveWorkers] },
    {
      provide: WorkerRegistry,
      useFactory: (core: FleetCore, live: LiveWorkers, foreign: ForeignEvents, leadership: RegistryLeadership, liveness: WorkerLiveness, stats: RegistryStats) =>
        new WorkerRegistry({ pool: core.pool, streams: core.store, live, foreign, leadership, liveness, stats, logger: core.logger, statsLogIntervalMs: s.statsLogIntervalMs }),
      inject: [FLEET_CORE, LiveWorkers, ForeignEvents, RegistryLeadership, WorkerLiveness, RegistryStats],
    },
    {
      provide: ReportIntake,
      useFactory: (core: FleetCore, reports: WorkerReports) =>
        new ReportIntake({
          nc: core.nc,
          js: core.js,
          subjects: core.subjects,
          logger: core.logger,
          handle: (r) => reports.report(r),
          handleScreened: (r) => reports.screened(r),
          screenThread: s.reportScreenThread,
          ...(opts.screenThreadScript ? { screenThreadScript: opts.screenThreadScript } : {}),
        }),
      inject: [FLEET_CORE, WorkerReports],
    },
    RegistryLifecycle,
    {
      provide: HostLiveness,
      useFactory: (core: FleetCore) => {
        const hosts = new HostLiveness(
          core.store,
          { host: core.config.host, expirationMs: s.hostExpirationMs, expiryCheckIntervalMs: Math.min(15_000, Math.max(50, Math.floor(s.hostExpirationMs / 4))), ...clock },
          core.logger,
        );
        registerHostMetrics(core.health.registry, hosts);
        return hosts;
      },
      inject: [FLEET_CORE],
    },
    HostLivenessLifecycle,
  ];
}

@Module({})
export class WorkerRegistryModule {
  static forRoot(config: WorkerRegistryConfig, opts: WorkerRegistryModuleOptions = {}): DynamicModule {
    // The bus is made before the providers: its refusals reach the reporter once that exists.
    const refusals: { current?: CommandRefusals } = {};
    return {
      module: WorkerRegistryModule,
      imports: [
        FleetCoreModule.forRoot({
          serviceName: 'worker-registry',
          config: config.core,
          relay: opts.relay ?? true,
          poolSize: config.registry.poolSize,
          schemaMigrations: MIGRATIONS,
          eventIntake: true,
          commandTrust: commandTrustOf(config.trust, 'worker-registry', { verifies: true, signs: true, onRefused: (r) => refusals.current?.refuse(r) }),
        }),
      ],
      controllers: [WorkerRegistryController],
      providers: [
        ...registryProviders(config, opts),
        {
          provide: CommandRefusals,
          useFactory: (core: FleetCore) => (refusals.current = new CommandRefusals(core.config.host, core.store, core.logger)),
          inject: [FLEET_CORE],
        },
      ],
    };
  }
}
