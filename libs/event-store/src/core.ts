// @fleetvisor/event-store/core: the log, checkpoints, leader locks and projections over a pg Pool,
// without the TypeORM side (data source, migrations, openEventStore): ~300 modules that processes
// which never migrate (worker-agent, service-runner) need not load.
export * from './types';
export * from './checkpoint';
export * from './expected-version';
export * from './errors';
export * from './advisory-lock-key';
export { WRONG_EXPECTED_VERSION_SQLSTATE, DUPLICATE_EVENT_ID_SQLSTATE } from './schema/1767225600001-create-append-function';
export * from './postgres-event-store';
export * from './command-handler';
export type { AppendCombinerStats } from './append-combiner';
export * from './postgres-checkpoint-store';
export * from './postgres-leader-lock';
export * from './pg-connection';
export * from './projections/projection';
export * from './projections/projection-runner';
export * from './projections/stream-stats';
export * from './projections/stream-stats-projection';
export { MAX_EVENT_BYTES } from './append-batch';
