// @fleetvisor/testing: harness for int and e2e tests (own database, own bus names, private servers).
export * from './test-database';
export * from './eventually';
export * from './test-bus';
