// The projections the CLI can rebuild, by name. Services register theirs here as they land.
import { StreamStatsProjection, type Projection } from '@fleetvisor/event-store';

export const PROJECTIONS: Readonly<Record<string, () => Projection>> = {
  'stream-stats': () => new StreamStatsProjection(),
};
