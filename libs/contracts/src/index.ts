// @fleetvisor/contracts: the only shared language between Fleetvisor processes.
// Depends on nothing of ours (enforced by lint).
export * from './uuid';
export * from './envelope';
export * from './define-event';
export * from './catalog';
export * from './new-event';
export * from './subjects';
export * from './commands';
export * from './fields';
export * from './events';
export * from './events/examples';
export * from './command-defs';
export * from './json-schema';
export * from './trust';
