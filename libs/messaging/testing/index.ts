// @fleetvisor/messaging/testing: stand-ins for the bus in wiring tests (outside src/: never shipped).
export * from './recording-bus';
export * from './test-streams';
