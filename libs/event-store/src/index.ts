// @fleetvisor/event-store: the Postgres event log (append, gap-free reads), checkpoints, leader
// locks, projections and the schema migrations behind them. Without TypeORM (no migrations, no
// openEventStore): @fleetvisor/event-store/core.
export * from './core';
export * from './data-source';
export * from './migrate';
export { EVENT_STORE_MIGRATIONS, MIGRATIONS_TABLE, type SchemaMigrations } from './schema/migrations';
export * from './event-store-connection';
