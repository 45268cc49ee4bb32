// @fleetvisor/messaging/core: everything of the library except the NestJS shell and FleetCore, for
// code that runs without Nest (the CLI's bus queries, tests, benches): neither Nest nor TypeORM is loaded.
export * from './backoff';
export * from './nats-connection';
export * from './event-stream';
export * from './dead-letter';
export * from './idempotency';
export * from './subject-match';
export * from './outbox-relay';
export * from './event-consumer';
export * from './command-bus';
export * from './command-trust';
export * from './event-consumer-factory';
export * from './edge-bus';
export * from './event-intake';
export * from './migrate-streams';
export * from './nats-permissions';
export * from './service-health';
