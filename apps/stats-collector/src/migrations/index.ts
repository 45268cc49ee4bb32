// The stats-collector's own schema migrations (its projection's tables), applied after the event
// store's by `fleetvisor migrate` and when the collector starts. Append new ones at the end; never
// edit one that has shipped.
import type { SchemaMigrations } from '@fleetvisor/event-store';
import { CreateStatsRollups1767225600020 } from './1767225600020-create-stats-rollups';

export const MIGRATIONS: SchemaMigrations = [CreateStatsRollups1767225600020];
