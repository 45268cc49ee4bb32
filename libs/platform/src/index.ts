// @fleetvisor/platform: process plumbing every app shares (typed config readers, the logger).
export * from './config';
export * from './logger';
export * from './unreachable';
export * from './version';
export * from './nest-logger';
export * from './cli/cli-framework';
export * from './cli/progress-bar';
export * from './cli/run-main';
export * from './free-port';
