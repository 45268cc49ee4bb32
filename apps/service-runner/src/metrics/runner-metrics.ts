// The runner's figures on /metrics (FLEETVISOR_HEALTH_LISTEN): its services by state, upgrades by
// outcome and restarts since start (counted from the events it records, so a figure never
// disagrees with the log), and the versions quarantined now (from its upgrade state, so a restart
// of the runner keeps them).
import { Counter, Gauge, type Registry } from 'prom-client';
import { SERVICE_STATES, type EventEnvelope, type ServiceSummary, type ServiceUpgrades } from '@fleetvisor/contracts';

/** What the metrics read from the runner (Runner satisfies it). */
export interface RunnerMetricsSource {
  list(): ServiceSummary[];
  upgrades(): ServiceUpgrades[];
  recorder: { onRecorded(fn: (e: EventEnvelope) => void): () => void };
}

/** Event type → the outcome label of fleetvisor_runner_upgrades_total. */
export const UPGRADE_OUTCOMES: Readonly<Record<string, string>> = {
  UpgradeStarted: 'started',
  ServiceUpgraded: 'succeeded',
  UpgradeFailed: 'failed',
  UpgradeRolledBack: 'rolled_back',
  VersionQuarantined: 'quarantined',
};

export function registerRunnerMetrics(registry: Registry, runner: RunnerMetricsSource): () => void {
  new Gauge({
    name: 'fleetvisor_runner_services',
    help: 'Supervised services of this runner by supervision state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = new Map<string, number>(SERVICE_STATES.map((s) => [s, 0]));
      for (const s of runner.list()) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
      for (const [state, n] of counts) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'fleetvisor_runner_quarantined_versions',
    help: 'Versions quarantined now (failed an upgrade; not run again until retried), by supervised service',
    // Not "service": that default label names the process exporting (service-runner).
    labelNames: ['supervised'],
    registers: [registry],
    collect() {
      this.reset();
      for (const u of runner.upgrades()) this.set({ supervised: u.service }, u.quarantined.length);
    },
  });
  const upgrades = new Counter({
    name: 'fleetvisor_runner_upgrades_total',
    help: 'Upgrade steps recorded by this runner since it started, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of new Set(Object.values(UPGRADE_OUTCOMES))) upgrades.inc({ outcome }, 0);
  const restarts = new Counter({
    name: 'fleetvisor_runner_service_restarts_total',
    help: 'Supervised services restarted after an exit since the runner started',
    registers: [registry],
  });
  return runner.recorder.onRecorded((e) => {
    const outcome = UPGRADE_OUTCOMES[e.type];
    if (outcome) upgrades.inc({ outcome });
    else if (e.type === 'ServiceRestarted') restarts.inc();
  });
}
