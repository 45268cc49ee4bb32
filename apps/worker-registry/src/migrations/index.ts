// The worker-registry's own schema migrations (its projection's tables), applied after the event
// store's by `fleetvisor migrate` and when the registry starts; ordered by their timestamps with
// every other owner's. Append new ones at the end; never edit one that has shipped (databases
// record them by name in fv_migrations).
import type { SchemaMigrations } from '@fleetvisor/event-store';
import { CreateWorkerRegistryProjection1767225600010 } from './1767225600010-create-worker-registry-projection';
import { WorkerUnreachable1767225600011 } from './1767225600011-worker-unreachable';

export const MIGRATIONS: SchemaMigrations = [CreateWorkerRegistryProjection1767225600010, WorkerUnreachable1767225600011];
