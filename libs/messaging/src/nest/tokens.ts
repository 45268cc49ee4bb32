// Injection tokens of FleetCoreModule: `@Inject(FLEET_EVENT_STORE) store: EventStore`.
export const FLEET_CORE = 'FLEET_CORE';
export const FLEET_CONFIG = 'FLEET_CONFIG';
export const FLEET_LOGGER = 'FLEET_LOGGER';
export const FLEET_SUBJECTS = 'FLEET_SUBJECTS';
export const FLEET_NATS = 'FLEET_NATS';
export const FLEET_JETSTREAM = 'FLEET_JETSTREAM';
export const FLEET_JETSTREAM_MANAGER = 'FLEET_JETSTREAM_MANAGER';
export const FLEET_PG_POOL = 'FLEET_PG_POOL';
/** The EventStoreConnection (DataSource, pool, leader locks, projection runners). */
export const FLEET_EVENT_STORE_CONNECTION = 'FLEET_EVENT_STORE_CONNECTION';
export const FLEET_EVENT_STORE = 'FLEET_EVENT_STORE';
export const FLEET_CHECKPOINT_STORE = 'FLEET_CHECKPOINT_STORE';
export const FLEET_COMMAND_BUS = 'FLEET_COMMAND_BUS';
export const FLEET_EVENT_CONSUMERS = 'FLEET_EVENT_CONSUMERS';
/** The OutboxRelay, or null when the module was configured without `relay`. */
export const FLEET_OUTBOX_RELAY = 'FLEET_OUTBOX_RELAY';
/** The EdgeBus of an edge process (FleetEdgeModule): NATS that may come later, no Postgres. */
export const FLEET_EDGE_BUS = 'FLEET_EDGE_BUS';
