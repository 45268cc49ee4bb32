// The harness's settings, read from the environment in this one place (the lint allows
// process.env only in config.ts files). Read on each call, so a test may change them.
import { envReader, type Env } from '@fleetvisor/platform';

export interface TestingConfig {
  /** FLEETVISOR_TEST_ADMIN_DATABASE_URL: admin connection to the shared Postgres (creates/drops test databases). */
  adminDatabaseUrl: string;
  /** FLEETVISOR_TEST_NATS_URL: the shared NATS server with JetStream. */
  natsUrl: string;
  /** FLEETVISOR_TESTCONTAINERS=1: private servers run in containers (testcontainers) when a Docker engine answers. */
  testcontainers: boolean;
  /** FLEETVISOR_TEST_PG_BIN_DIR: folder holding initdb and postgres for private instances (found on its own if unset). */
  postgresBinDir: string | undefined;
  /** FLEETVISOR_TEST_NATS_SERVER: path of the nats-server binary for private instances (found on its own if unset). */
  natsServerBin: string | undefined;
  /** FLEETVISOR_TEST_PROMTOOL: Prometheus's promtool (default: on PATH, else fetched by scripts/ensure-promtool.sh). */
  promtoolBin: string | undefined;
  /** FLEETVISOR_TEST_CHROMIUM: the browser the dashboard tests drive (default: chromium on PATH). */
  chromiumBin: string | undefined;
  /** PATH, searched for the server binaries. */
  searchPath: string;
}

export const TESTING_DEFAULTS = {
  adminDatabaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  natsUrl: 'nats://127.0.0.1:4222',
} as const;

export function readTestingConfig(env: Env = process.env): TestingConfig {
  const r = envReader(env);
  return {
    adminDatabaseUrl: r.url('FLEETVISOR_TEST_ADMIN_DATABASE_URL', TESTING_DEFAULTS.adminDatabaseUrl, ['postgres', 'postgresql']),
    natsUrl: r.url('FLEETVISOR_TEST_NATS_URL', TESTING_DEFAULTS.natsUrl, ['nats', 'tls', 'ws', 'wss']),
    testcontainers: r.bool('FLEETVISOR_TESTCONTAINERS', false),
    postgresBinDir: r.optionalString('FLEETVISOR_TEST_PG_BIN_DIR'),
    natsServerBin: r.optionalString('FLEETVISOR_TEST_NATS_SERVER'),
    promtoolBin: r.optionalString('FLEETVISOR_TEST_PROMTOOL'),
    chromiumBin: r.optionalString('FLEETVISOR_TEST_CHROMIUM'),
    searchPath: r.string('PATH', ''),
  };
}

/** This process's environment (PATH, HOME…), which processes under test inherit. */
export function inheritedEnvironment(env: Env = process.env): Record<string, string | undefined> {
  return { ...env };
}
