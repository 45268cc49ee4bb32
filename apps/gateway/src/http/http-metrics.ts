// The gateway's own figures on /metrics, next to the process's and the bus's (FleetCore's
// registry): requests by route and status as a counter, latency as a histogram.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly latency: Histogram<'method' | 'route'>;

  constructor(registry: Registry, sseClients: () => number) {
    this.requests = new Counter({
      name: 'fleetvisor_gateway_requests_total',
      help: 'HTTP requests answered, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'fleetvisor_gateway_request_duration_seconds',
      help: 'Time from request to response, by method and route template (SSE streams excluded)',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    new Gauge({
      name: 'fleetvisor_gateway_sse_clients',
      help: 'Clients connected to the live event stream',
      registers: [registry],
      collect() {
        this.set(sseClients());
      },
    });
  }

  observe(method: string, route: string, status: number, seconds: number | undefined): void {
    this.requests.inc({ method, route, status: String(status) });
    if (seconds !== undefined) this.latency.observe({ method, route }, seconds);
  }
}
