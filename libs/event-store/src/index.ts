// @fleetvisor/event-store: the Postgres event log (append, gap-free reads), checkpoints, leader
// locks, projections and the schema migrations behind them.
export * from './types';
export * from './checkpoint';
export * from './expected-version';
export * from './errors';
export * from './data-source';
export * from './migrate';
export { EVENT_STORE_MIGRATIONS, MIGRATIONS_TABLE } from './schema/migrations';
export { WRONG_EXPECTED_VERSION_SQLSTATE, DUPLICATE_EVENT_ID_SQLSTATE } from './schema/1767225600001-create-append-function';
export * from './postgres-event-store';
export * from './postgres-checkpoint-store';
export * from './postgres-leader-lock';
export * from './event-store-connection';
export * from './projections/projection';
export * from './projections/projection-runner';
export * from './projections/stream-stats';
export * from './projections/stream-stats-projection';
