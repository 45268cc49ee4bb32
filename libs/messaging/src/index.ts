// @fleetvisor/messaging: NATS and JetStream for Fleetvisor: the outbox relay (log -> FLEET_EVENTS),
// event consumers with ack/backoff/dead-letter/idempotency, command request-reply, and the NestJS
// module every app imports. Without Nest: @fleetvisor/messaging/core.
export * from './core';
export * from './fleet-core';
export * from './nest/tokens';
export * from './nest/fleet-core.module';
export * from './nest/fleet-transport';
export * from './nest/fleet-rpc-exception.filter';
export * from './nest/fleet-microservice';
export * from './nest/fleet-edge.module';
