// The optional parts of a running collector, from its settings: the Prometheus /metrics export,
// the scraper of configured targets, the steady-band watcher.
import type { FleetCore } from '@fleetvisor/messaging';
import type { StatsCollectorSettings } from './config';
import { BandWatcher } from './anomaly/band-watcher';
import { DEFAULT_BAND_SETTINGS } from './anomaly/steady-band';
import { MetricsServer, StatsMetrics } from './metrics-export';
import { PrometheusScraper } from './scrape/scraper';
import type { CollectorPart, StatsCollector } from './stats-collector';

export function collectorParts(collector: StatsCollector, core: FleetCore, settings: StatsCollectorSettings, clock?: () => number): CollectorPart[] {
  const parts: CollectorPart[] = [];
  const log = core.logger.child({ component: 'stats-collector' });
  let scraper: PrometheusScraper | undefined;
  if (settings.scrapeTargets.length > 0) {
    scraper = new PrometheusScraper(settings.scrapeTargets, collector.intake, log, { intervalSeconds: settings.scrapeSeconds, ...(clock ? { clock } : {}) });
    parts.push(scraper);
  }
  if (settings.anomalyIntervalMs > 0) {
    parts.push(
      new BandWatcher(core.pool, core.store, log, {
        band: { ...DEFAULT_BAND_SETTINGS, historyMs: settings.bandHistoryMs, afterMs: settings.anomalyAfterMs, edgeMs: settings.anomalyEdgeMs },
        methods: settings.anomalyMethods.source,
        intervalMs: settings.anomalyIntervalMs,
        host: core.config.host,
        ...(clock ? { clock } : {}),
      }),
    );
  }
  if (settings.metricsListen) {
    const s = scraper;
    const metrics = new StatsMetrics(collector, s ? { scrapes: () => s.scrapes, scrapeFailures: () => s.failures } : {});
    collector.projection.onApplied = (rows) => metrics.applied(rows);
    parts.push(new MetricsServer(metrics, settings.metricsListen, log));
  }
  return parts;
}
