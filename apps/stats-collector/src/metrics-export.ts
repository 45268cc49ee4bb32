// The collector's Prometheus /metrics: the calls it has folded into its rollups (per caller,
// component, method: counters since this process started, so Prometheus' rate() and increase()
// work on them as on any counter), and its own health: pushed batches stored, duplicates,
// refusals by reason, scrapes, compactions.
import http from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '@fleetvisor/platform';
import type { MinuteRows } from './projection/stats-projection';
import type { CollectorPart, StatsCollector } from './stats-collector';
import { REFUSAL_REASONS } from './ingest/push-intake';

export class StatsMetrics {
  readonly registry = new Registry();
  private readonly calls = new Counter({ name: 'fleetvisor_stats_calls_total', help: 'API calls counted into the rollups, by caller, component and method', labelNames: ['caller', 'component', 'method'], registers: [this.registry] });
  private readonly errors = new Counter({ name: 'fleetvisor_stats_errors_total', help: 'API calls answered with an error, by caller, component and method', labelNames: ['caller', 'component', 'method'], registers: [this.registry] });
  private readonly transport = new Counter({ name: 'fleetvisor_stats_transport_errors_total', help: 'API calls that got no answer, by caller, component and method', labelNames: ['caller', 'component', 'method'], registers: [this.registry] });

  constructor(collector: StatsCollector, extra: { scrapes?: () => number; scrapeFailures?: () => number } = {}) {
    const intake = collector.intake;
    new Gauge({
      name: 'fleetvisor_stats_push_refused_total',
      help: 'Pushed batches refused, by reason (schema, rules, scope, window)',
      labelNames: ['reason'],
      registers: [this.registry],
      collect() {
        for (const r of REFUSAL_REASONS) this.set({ reason: r }, intake.refused[r]);
      },
    });
    new Gauge({
      name: 'fleetvisor_stats_batches_total',
      help: 'Batches appended to the log (stored) or found there already (duplicate)',
      labelNames: ['outcome'],
      registers: [this.registry],
      collect() {
        this.set({ outcome: 'stored' }, intake.accepted);
        this.set({ outcome: 'duplicate' }, intake.duplicates);
      },
    });
    new Gauge({ name: 'fleetvisor_stats_compactions_total', help: 'Compaction runs', registers: [this.registry], collect() { this.set(collector.compactions); } });
    if (extra.scrapes) {
      const scrapes = extra.scrapes;
      const failures = extra.scrapeFailures ?? (() => 0);
      new Gauge({ name: 'fleetvisor_stats_scrapes_total', help: 'Scrapes of configured targets, by outcome', labelNames: ['outcome'], registers: [this.registry], collect() { this.set({ outcome: 'ok' }, scrapes()); this.set({ outcome: 'failed' }, failures()); } });
    }
  }

  /** Called with each batch of rows the projection folded. */
  applied(rows: MinuteRows): void {
    for (let i = 0; i < rows.caller.length; i++) {
      const labels = { caller: rows.caller[i]!, component: rows.component[i]!, method: rows.method[i]! };
      this.calls.inc(labels, rows.sums[0]![i]!);
      if (rows.sums[1]![i]! > 0) this.errors.inc(labels, rows.sums[1]![i]!);
      if (rows.sums[2]![i]! > 0) this.transport.inc(labels, rows.sums[2]![i]!);
    }
  }
}

/** GET /metrics on host:port. */
export class MetricsServer implements CollectorPart {
  private server: http.Server | undefined;
  address: { host: string; port: number } | undefined;

  constructor(
    private readonly metrics: StatsMetrics,
    private readonly listen: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const m = /^(.*):(\d+)$/.exec(this.listen);
    if (!m) throw new Error(`FLEETVISOR_STATS_METRICS_LISTEN must be host:port, got "${this.listen}"`);
    this.server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', () => resolve());
    });
    const a = this.server.address() as { address: string; port: number };
    this.address = { host: a.address, port: a.port };
    this.log.info(this.address, 'Prometheus /metrics listening');
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const closed = new Promise<void>((r) => this.server!.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  }
}
