// The parts of a running collector, from its settings: the scraper of configured targets and of
// those the runners name (scrape discovery), the
// steady-band watcher, its figures in the service's Prometheus registry (served on
// FLEETVISOR_HEALTH_LISTEN with the health endpoints) and, when set, the older
// FLEETVISOR_STATS_METRICS_LISTEN serving the same registry; and a readiness check that holds
// /health/ready at 503 until the projection has caught up with the log.
import type { FleetCore } from '@fleetvisor/messaging';
import type { StatsCollectorSettings } from './config';
import { BandWatcher } from './anomaly/band-watcher';
import { DEFAULT_BAND_SETTINGS, type BandSettings } from './anomaly/steady-band';
import { MetricsServer, StatsMetrics } from './metrics-export';
import { askRunnersOverNats, ScrapeDiscovery } from './scrape/discovery';
import { PrometheusScraper } from './scrape/scraper';
import type { CollectorPart, StatsCollector } from './stats-collector';

/** The steady band's settings from the collector's: one place, so the watcher and the bands query agree. */
export function bandSettings(settings: StatsCollectorSettings): BandSettings {
  return { ...DEFAULT_BAND_SETTINGS, historyMs: settings.bandHistoryMs, afterMs: settings.anomalyAfterMs, edgeMs: settings.anomalyEdgeMs };
}

export function collectorParts(collector: StatsCollector, core: FleetCore, settings: StatsCollectorSettings, clock?: () => number): CollectorPart[] {
  const parts: CollectorPart[] = [];
  const log = core.logger.child({ component: 'stats-collector' });
  let scraper: PrometheusScraper | undefined;
  if (settings.scrapeTargets.length > 0 || settings.discoveryIntervalMs > 0) {
    scraper = new PrometheusScraper(settings.scrapeTargets, collector.intake, log, { intervalSeconds: settings.scrapeSeconds, ...(clock ? { clock } : {}) });
    if (settings.discoveryIntervalMs > 0) {
      const ask = askRunnersOverNats(core.nc, core.config.subjectRoot, log);
      parts.push(new ScrapeDiscovery(settings.scrapeTargets, ask, scraper, log, { intervalMs: settings.discoveryIntervalMs, waitMs: settings.discoveryWaitMs }));
    }
    parts.push(scraper);
  }
  let watcher: BandWatcher | undefined;
  if (settings.anomalyIntervalMs > 0) {
    watcher = new BandWatcher(core.pool, core.store, log, {
      band: bandSettings(settings),
      methods: settings.anomalyMethods.source,
      intervalMs: settings.anomalyIntervalMs,
      host: core.config.host,
      ...(clock ? { clock } : {}),
    });
    parts.push(watcher);
  }
  const s = scraper;
  const w = watcher;
  const metrics = new StatsMetrics(core.health.registry, collector, {
    ...(s ? { scrapes: () => ({ ok: s.scrapes, failed: s.failures }), scrapeTargets: () => s.current } : {}),
    ...(w ? { outsideBand: () => w.outsideBand() } : {}),
  });
  collector.projection.onApplied = (rows) => metrics.applied(rows);
  core.health.addCheck({
    name: 'projection',
    check() {
      if (!collector.caughtUp) throw new Error('catching up with the event log');
    },
  });
  // The same address twice (as an older compose file had it) would fail to bind: the health server already serves /metrics.
  if (settings.metricsListen && settings.metricsListen !== core.config.healthListen) parts.push(new MetricsServer(metrics, settings.metricsListen, log));
  return parts;
}
