// The registry's figures on /metrics (FLEETVISOR_HEALTH_LISTEN): workers by liveness, threads by
// what they are doing, reports handled and the appends they caused. Read from the live state when
// Prometheus asks, so they cost nothing between scrapes.
import { Gauge, type Registry } from 'prom-client';
import { sampledCounter } from '@fleetvisor/messaging';
import { HOST_STATES } from '@fleetvisor/contracts';
import type { HostLiveness } from './host-liveness';
import type { LiveWorkers } from './live-workers';
import type { RegistryCounters } from './registry-stats';

const THREAD_STATES = ['empty', 'paused', 'running', 'waiting', 'errors'] as const;

export function registerRegistryMetrics(registry: Registry, live: LiveWorkers, counters: Pick<RegistryCounters, 'reports' | 'appends' | 'conflicts'>): void {
  new Gauge({
    name: 'fleetvisor_workers',
    help: 'Sealing workers the registry holds, by liveness (live, or expired: silent past FLEETVISOR_WORKER_EXPIRATION)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      let expired = 0;
      for (const w of live.values()) if (w.agg.worker.expired) expired++;
      this.set({ state: 'live' }, live.size - expired);
      this.set({ state: 'expired' }, expired);
    },
  });
  new Gauge({
    name: 'fleetvisor_worker_threads',
    help: 'Threads of all workers, by state as the damocles table counts them (errors: threads with a last error)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const sums = { empty: 0, paused: 0, running: 0, waiting: 0, errors: 0 };
      for (const w of live.values()) for (const s of THREAD_STATES) sums[s] += w.counts[s];
      for (const s of THREAD_STATES) this.set({ state: s }, sums[s]);
    },
  });
  sampledCounter({
    registry,
    name: 'fleetvisor_worker_reports_total',
    help: 'Worker reports handled since this process started',
    read: () => [[{}, counters.reports()]],
  });
  sampledCounter({
    registry,
    name: 'fleetvisor_worker_appends_total',
    help: 'Appends of worker events since start, by outcome (written, or conflict: refused at a stale version and retried)',
    labelNames: ['outcome'],
    read: () => [[{ outcome: 'written' }, counters.appends()], [{ outcome: 'conflict' }, counters.conflicts()]],
  });
}

/** Runner hosts by liveness: online, expired (silent past FLEETVISOR_HOST_EXPIRATION) or offline (stopped cleanly). */
export function registerHostMetrics(registry: Registry, hosts: Pick<HostLiveness, 'counts'>): void {
  new Gauge({
    name: 'fleetvisor_hosts',
    help: 'Runner hosts the registry heard from, by state (online, expired: silent past the expiration, offline: stopped cleanly)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = hosts.counts();
      for (const s of HOST_STATES) this.set({ state: s }, counts.get(s) ?? 0);
    },
  });
}
