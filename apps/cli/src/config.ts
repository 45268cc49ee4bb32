// The CLI's configuration: the shared core settings (database, NATS, subjects, logging), read once
// from the environment and validated; commands receive this object, never process.env.
import os from 'node:os';
import path from 'node:path';
import { readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';

export type CliConfig = CoreConfig;

export function loadCliConfig(env: Env = process.env): CliConfig {
  return readCoreConfig(env);
}

/** What `--url` (the CLI through the REST gateway) reads from the environment: the token, and where the token file is. */
export function readRemoteEnv(env: Env = process.env): { token: string | undefined; configHome: string } {
  const xdg = env.XDG_CONFIG_HOME?.trim();
  return { token: env.FLEETVISOR_TOKEN?.trim() || undefined, configHome: xdg ? xdg : path.join(env.HOME ?? os.homedir(), '.config') };
}

/** The environment components of `fleetvisor up` inherit (they read their own settings from it). */
export function inheritedEnv(env: Env = process.env): Env {
  return { ...env };
}

/** Every FLEETVISOR_* setting of this shell, sorted: what a unit's environment file carries over. */
export function fleetvisorSettings(env: Env = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => e[0].startsWith('FLEETVISOR_') && typeof e[1] === 'string')
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}
