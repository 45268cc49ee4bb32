// The projections the CLI can rebuild, by name. Services register theirs here as they land.
import { StreamStatsProjection, type Projection } from '@fleetvisor/event-store';

export const PROJECTIONS: Readonly<Record<string, () => Projection>> = {
  'stream-stats': () => new StreamStatsProjection(),
};

/**
 * Projections owned by a service app. Apps never import each other, so the CLI does not link their
 * projection code: `events rebuild <name>` hands the process over to the app's own rebuild command
 * (app-routes.ts), with the words below in place of its own.
 */
export const APP_PROJECTIONS: Readonly<Record<string, { app: string; words: readonly string[] }>> = {
  'worker-registry': { app: 'worker-registry', words: ['worker-registry', 'rebuild'] },
  'stats-collector': { app: 'stats-collector', words: ['stats-collector', 'rebuild'] },
};

export const PROJECTION_NAMES: readonly string[] = [...Object.keys(PROJECTIONS), ...Object.keys(APP_PROJECTIONS)];
