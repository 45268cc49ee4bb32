// The registry and its report subscription on one FleetCore: what the Nest shell, tests and the
// benchmark start and stop.
import { WorkerDrain, WorkerErrors, WorkerHistory, WorkerInfo, WorkerList, WorkerListPage, WorkerPause, WorkerRemove, WorkerResume } from '@fleetvisor/contracts';
import type { CommandServer, FleetCore } from '@fleetvisor/messaging';
import type { WorkerRegistrySettings } from '../config';
import { ReportIntake } from './report-intake';
import { WorkerRegistry } from './worker-registry';

export class WorkerRegistryRuntime {
  readonly registry: WorkerRegistry;
  readonly intake: ReportIntake;
  private servers: CommandServer[] = [];

  constructor(
    private readonly core: FleetCore,
    settings: WorkerRegistrySettings,
    opts: { clock?: () => number; onLeadershipLost?: () => void } = {},
  ) {
    this.registry = new WorkerRegistry({
      pool: core.pool,
      store: core.store,
      eventStore: core.eventStore,
      bus: core.commands,
      logger: core.logger,
      host: core.config.host,
      settings,
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.onLeadershipLost ? { onLeadershipLost: opts.onLeadershipLost } : {}),
    });
    this.intake = new ReportIntake({
      nc: core.nc,
      js: core.js,
      subjects: core.subjects,
      logger: core.logger,
      handle: (r) => this.registry.report(r),
      handleScreened: (r) => this.registry.screened(r),
      screenThread: settings.reportScreenThread,
    });
  }

  /** Loads the state (projection caught up with the log), then takes reports. */
  async start(): Promise<void> {
    await this.registry.start();
    await this.intake.start();
  }

  /**
   * Serves the registry's commands on the core's CommandBus directly: for hosts without the Nest
   * shell (tests, the benchmark). The service itself binds them through WorkerRegistryController.
   */
  async serveCommands(): Promise<void> {
    const r = this.registry;
    const bus = this.core.commands;
    this.servers = [
      bus.serve(WorkerList, async () => r.list()),
      bus.serve(WorkerListPage, async (req) => r.listPage(req)),
      bus.serve(WorkerInfo, async (req) => r.info(req)),
      bus.serve(WorkerErrors, async () => r.errors()),
      bus.serve(WorkerHistory, (req) => r.history(req)),
      bus.serve(WorkerPause, (req) => r.pause(req)),
      bus.serve(WorkerResume, (req) => r.resume(req)),
      bus.serve(WorkerDrain, (req) => r.drain(req)),
      bus.serve(WorkerRemove, (req) => r.remove(req)),
    ];
    await Promise.all(this.servers.map((s) => s.ready));
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    this.servers = [];
    await this.intake.stop();
    await this.registry.stop();
  }
}
