// @fleetvisor/platform: process plumbing every app shares (typed config readers, the logger).
export * from './config';
export * from './logger';
export * from './unreachable';
export * from './version';
export * from './nest-logger';
export * from './cli';
export * from './free-port';
export * from './health-server';
export * from './systemd';
