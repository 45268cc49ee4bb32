// The registry's start order: a standby registry waits in registry.start() (its leader lock) and
// must not start host liveness meanwhile: heartbeats reach only the leader, so a standby's expiry
// checks would record live hosts as expired (found by the cluster fault suite with a standby).
import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import type { ReportIntake } from './registry/report-intake';
import type { WorkerRegistry } from './registry/worker-registry';
import { HostLivenessLifecycle, RegistryLifecycle } from './worker-registry.module';

describe('RegistryLifecycle', () => {
  it('starts host liveness and the report intake only once the registry leads, and stops host liveness first', async () => {
    const calls: string[] = [];
    let lead: () => void = () => undefined;
    const registry = { start: () => new Promise<void>((r) => (lead = r)), stop: async () => void calls.push('registry.stop') } as unknown as WorkerRegistry;
    const intake = { start: async () => void calls.push('intake.start'), stop: async () => void calls.push('intake.stop') } as unknown as ReportIntake;
    const hosts = { start: async () => void calls.push('hosts.start'), stop: () => void calls.push('hosts.stop') } as unknown as HostLivenessLifecycle;
    const lifecycle = new RegistryLifecycle(registry, intake, hosts);

    const booting = lifecycle.onApplicationBootstrap();
    // Standing by: the registry has not won its lock.
    await Promise.resolve();
    expect(calls).toEqual([]);
    lead();
    await booting;
    expect(calls).toEqual(['hosts.start', 'intake.start']);

    await lifecycle.beforeApplicationShutdown();
    expect(calls.slice(2)).toEqual(['hosts.stop', 'intake.stop', 'registry.stop']);
  });
});
