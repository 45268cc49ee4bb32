// The CoreConfig a suite runs its processes with: its own database and bus names, shared servers.
import { readCoreConfig, type CoreConfig } from '@fleetvisor/platform';
import { sharedNatsUrl, type TestBusNames } from './test-bus';

export function testCoreConfig(databaseUrl: string, bus: TestBusNames, overrides: Partial<CoreConfig> = {}): CoreConfig {
  return {
    ...readCoreConfig({}),
    databaseUrl,
    natsUrl: sharedNatsUrl(),
    subjectRoot: bus.subjectRoot,
    eventStreamName: bus.eventStreamName,
    eventStreamMaxAgeMs: 3_600_000,
    eventStreamMaxBytes: 64 * 1024 ** 2,
    deadLetterStreamMaxBytes: 16 * 1024 ** 2,
    eventStreamReplicas: 1,
    logLevel: 'silent',
    logFormat: 'json',
    host: 'test-host',
    ...overrides,
  };
}
