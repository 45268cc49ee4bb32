// The agent's figures on /metrics (FLEETVISOR_HEALTH_LISTEN): reports by outcome, transitions
// waiting for the registry (they pile up while NATS or the registry is away), transitions dropped
// past the bound.
import { Gauge, type Registry } from 'prom-client';
import { sampledCounter } from '@fleetvisor/messaging';
import type { WorkerAgent } from './worker-agent';

export function registerAgentMetrics(registry: Registry, agent: WorkerAgent): void {
  sampledCounter({
    registry,
    name: 'fleetvisor_agent_reports_total',
    help: 'Reports sent to the worker-registry since start, by outcome',
    labelNames: ['outcome'],
    read: () => {
      const s = agent.reporter.stats;
      return [[{ outcome: 'ok' }, s.ok], [{ outcome: 'failed' }, s.failed]];
    },
  });
  new Gauge({
    name: 'fleetvisor_agent_pending_transitions',
    help: 'Thread transitions the registry has not acknowledged yet',
    registers: [registry],
    collect() {
      this.set(agent.outbox.size);
    },
  });
  sampledCounter({
    registry,
    name: 'fleetvisor_agent_dropped_transitions_total',
    help: 'Transitions dropped because more than FLEETVISOR_WORKER_MAX_PENDING were waiting',
    read: () => [[{}, agent.outbox.dropped]],
  });
}
