// @fleetvisor/testing: harness for int and e2e tests (own database, own bus names, private servers).
export * from './config';
export * from './test-database';
export * from './eventually';
export * from './test-bus';
export { freePort } from '@fleetvisor/platform';
export type { PrivateServer, PrivateServerBackend, PrivateServerOptions } from './private-server';
export * from './private-postgres';
export * from './private-nats';
export * from './test-core-config';
export * from './processes';
export * from './credential-setups';
export * from './test-trust';
export * from './promtool';
export * from './browser';
export * from './netns';
