// @fleetvisor/messaging/core: everything of the library except the NestJS shell, for processes
// that run without Nest (worker-agent, service-runner): Nest (~40 MB) and, through FleetCore, TypeORM are not loaded.
export * from './backoff';
export * from './nats-connection';
export * from './event-stream';
export * from './dead-letter';
export * from './idempotency';
export * from './subject-match';
export * from './outbox-relay';
export * from './event-consumer';
export * from './command-bus';
