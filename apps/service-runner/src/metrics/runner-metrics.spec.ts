import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope, ServiceSummary, ServiceUpgrades } from '@fleetvisor/contracts';
import { registerRunnerMetrics } from './runner-metrics';

function source() {
  const listeners = new Set<(e: EventEnvelope) => void>();
  const s = {
    services: [] as ServiceSummary[],
    ups: [] as ServiceUpgrades[],
    list: () => s.services,
    upgrades: () => s.ups,
    recorder: {
      onRecorded(fn: (e: EventEnvelope) => void) {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
    },
    emit: (type: string) => {
      for (const l of listeners) l({ type } as EventEnvelope);
    },
  };
  return s;
}

const summary = (service: string, state: ServiceSummary['state']): ServiceSummary => ({ service, role: 'provider', binary: 'lavap', state, restarts: 0 });
const value = async (registry: Registry, name: string, labels: Record<string, string>) =>
  (await registry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;

describe('runner metrics', () => {
  it('count services by state at each scrape, upgrades by outcome and restarts from the recorded events, quarantines from the upgrade state', async () => {
    const registry = new Registry();
    const src = source();
    registerRunnerMetrics(registry, src);
    src.services = [summary('p1', 'running'), summary('p2', 'running'), summary('c1', 'crash_looping')];
    expect(await value(registry, 'fleetvisor_runner_services', { state: 'running' })).toBe(2);
    expect(await value(registry, 'fleetvisor_runner_services', { state: 'crash_looping' })).toBe(1);
    expect(await value(registry, 'fleetvisor_runner_services', { state: 'upgrading' })).toBe(0);
    // Every outcome is exported from the start (at 0), so rate() and increase() see the first one.
    expect(await value(registry, 'fleetvisor_runner_upgrades_total', { outcome: 'failed' })).toBe(0);
    for (const t of ['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined', 'UpgradeStarted', 'ServiceUpgraded', 'ServiceRestarted', 'ServiceRestarted', 'ServiceStarted']) src.emit(t);
    expect(await value(registry, 'fleetvisor_runner_upgrades_total', { outcome: 'started' })).toBe(2);
    expect(await value(registry, 'fleetvisor_runner_upgrades_total', { outcome: 'failed' })).toBe(1);
    expect(await value(registry, 'fleetvisor_runner_upgrades_total', { outcome: 'succeeded' })).toBe(1);
    expect(await value(registry, 'fleetvisor_runner_upgrades_total', { outcome: 'rolled_back' })).toBe(1);
    expect(await value(registry, 'fleetvisor_runner_upgrades_total', { outcome: 'quarantined' })).toBe(1);
    expect(await value(registry, 'fleetvisor_runner_service_restarts_total', {})).toBe(2);
    const q = { version: '5.2.0', stage: 'health', reason: 'no answer', at: '2026-12-07T00:00:00.000Z' } as ServiceUpgrades['quarantined'][number];
    src.ups = [{ service: 'p1', role: 'provider', binary: 'lavap', installed: [], quarantined: [q] }];
    expect(await value(registry, 'fleetvisor_runner_quarantined_versions', { supervised: 'p1' })).toBe(1);
    // A lifted quarantine leaves no stale series behind.
    src.ups = [{ service: 'p1', role: 'provider', binary: 'lavap', installed: [], quarantined: [] }];
    expect(await value(registry, 'fleetvisor_runner_quarantined_versions', { supervised: 'p1' })).toBe(0);
  });
});
