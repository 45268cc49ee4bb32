// The CLI's configuration: the shared core settings (database, NATS, subjects, logging), read once
// from the environment and validated; commands receive this object, never process.env.
import { homedir } from 'node:os';
import path from 'node:path';
import { readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';

export type CliConfig = CoreConfig;

export function loadCliConfig(env: Env = process.env): CliConfig {
  return readCoreConfig(env);
}

/** The environment components of `fleetvisor up` inherit (they read their own settings from it). */
export function inheritedEnv(env: Env = process.env): Env {
  return { ...env };
}

/** Where `fleetvisor up` keeps its demo host and state between starts (FLEETVISOR_UP_STATE_DIR). */
export function upStateDir(env: Env = process.env): string {
  const v = env['FLEETVISOR_UP_STATE_DIR'];
  return path.resolve(v !== undefined && v !== '' ? v : path.join(homedir(), '.fleetvisor-up'));
}
