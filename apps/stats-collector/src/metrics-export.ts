// The collector's Prometheus figures, in the service's registry (served with /health/live and
// /health/ready on FLEETVISOR_HEALTH_LISTEN): the calls it has folded into its rollups (per caller,
// component, method: counters since this process started, so Prometheus' rate() and increase()
// work on them as on any counter), and its own work: pushed batches and their records stored,
// duplicate or refused by reason, scrapes, compactions, and the callers now outside their steady
// band. Counts the code keeps anyway are exported as true counters (sampledCounter), read when
// Prometheus asks.
import http from 'node:http';
import { Counter, Gauge, type Registry } from 'prom-client';
import { sampledCounter } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import type { MinuteRows } from './projection/stats-projection';
import type { CollectorPart, StatsCollector } from './stats-collector';
import { REFUSAL_REASONS } from './ingest/push-intake';

export interface StatsMetricsSources {
  scrapes?: () => { ok: number; failed: number };
  /** The scrape targets now (configured and discovered). */
  scrapeTargets?: () => readonly { origin?: 'static' | 'discovered' }[];
  /** Open anomalies by direction (the steady-band watcher); absent when it is off. */
  outsideBand?: () => { above: number; below: number };
}

export class StatsMetrics {
  private readonly calls: Counter;
  private readonly errors: Counter;
  private readonly transport: Counter;

  constructor(
    readonly registry: Registry,
    collector: StatsCollector,
    extra: StatsMetricsSources = {},
  ) {
    const registers = [registry];
    const labelNames = ['caller', 'component', 'method'];
    this.calls = new Counter({ name: 'fleetvisor_stats_calls_total', help: 'API calls counted into the rollups since this process started, by caller, component and method', labelNames, registers });
    this.errors = new Counter({ name: 'fleetvisor_stats_errors_total', help: 'API calls answered with an error, by caller, component and method', labelNames, registers });
    this.transport = new Counter({ name: 'fleetvisor_stats_transport_errors_total', help: 'API calls that got no answer, by caller, component and method', labelNames, registers });
    const intake = collector.intake;
    // Every reason and outcome shown from the start (at 0), so a dashboard's rate() has a series before the first refusal.
    const zeroed = (c: Counter, label: string, values: readonly string[]) => {
      for (const v of values) c.inc({ [label]: v }, 0);
    };
    const refusedBatches = sampledCounter({
      registry,
      name: 'fleetvisor_stats_push_refused_total',
      help: 'Batches of call counts refused, by reason (schema, rules, scope, window); nothing of them is stored',
      labelNames: ['reason'],
      read: () => REFUSAL_REASONS.map((r) => [{ reason: r }, intake.refused[r]] as const),
    });
    const batches = sampledCounter({
      registry,
      name: 'fleetvisor_stats_batches_total',
      help: 'Batches of call counts appended to the log (stored) or found there already (duplicate: a re-delivery, counted once)',
      labelNames: ['outcome'],
      read: () => [[{ outcome: 'stored' }, intake.accepted], [{ outcome: 'duplicate' }, intake.duplicates]],
    });
    const records = sampledCounter({
      registry,
      name: 'fleetvisor_stats_records_ingested_total',
      help: 'Call-count records (caller x component x method x window) taken in, by outcome (stored, or duplicate: already in the log)',
      labelNames: ['outcome'],
      read: () => [[{ outcome: 'stored' }, intake.recordsAccepted], [{ outcome: 'duplicate' }, intake.recordsDuplicate]],
    });
    const rejected = sampledCounter({
      registry,
      name: 'fleetvisor_stats_records_rejected_total',
      help: 'Call-count records in refused batches, by reason (schema, rules, scope, window)',
      labelNames: ['reason'],
      read: () => REFUSAL_REASONS.map((r) => [{ reason: r }, intake.recordsRefused[r]] as const),
    });
    zeroed(refusedBatches, 'reason', REFUSAL_REASONS);
    zeroed(rejected, 'reason', REFUSAL_REASONS);
    zeroed(batches, 'outcome', ['stored', 'duplicate']);
    zeroed(records, 'outcome', ['stored', 'duplicate']);
    sampledCounter({ registry, name: 'fleetvisor_stats_compactions_total', help: 'Compaction (downsampling and retention) runs completed', read: () => [[{}, collector.compactions]] });
    if (extra.scrapes) {
      const scrapes = extra.scrapes;
      sampledCounter({
        registry,
        name: 'fleetvisor_stats_scrapes_total',
        help: 'Scrapes of Prometheus targets, by outcome',
        labelNames: ['outcome'],
        read: () => {
          const s = scrapes();
          return [[{ outcome: 'ok' }, s.ok], [{ outcome: 'failed' }, s.failed]];
        },
      });
    }
    if (extra.scrapeTargets) {
      const targets = extra.scrapeTargets;
      new Gauge({
        name: 'fleetvisor_stats_scrape_targets',
        help: 'Prometheus endpoints scraped now, by origin (static: FLEETVISOR_STATS_SCRAPE_TARGETS; discovered: services the runners list with a metrics address)',
        labelNames: ['origin'],
        registers,
        collect() {
          let discovered = 0;
          const list = targets();
          for (const t of list) if (t.origin === 'discovered') discovered++;
          this.set({ origin: 'static' }, list.length - discovered);
          this.set({ origin: 'discovered' }, discovered);
        },
      });
    }
    if (extra.outsideBand) {
      const outside = extra.outsideBand;
      new Gauge({
        name: 'fleetvisor_stats_callers_outside_band',
        help: 'Callers (per component) whose message-sending rate is outside its steady band now (an open CallRateAnomaly), by direction',
        labelNames: ['direction'],
        registers,
        collect() {
          const n = outside();
          this.set({ direction: 'above' }, n.above);
          this.set({ direction: 'below' }, n.below);
        },
      });
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

/**
 * GET /metrics on FLEETVISOR_STATS_METRICS_LISTEN, the address the collector had before it served
 * FLEETVISOR_HEALTH_LISTEN: the same registry, for deployments that still scrape it there.
 */
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
