// The CLI's configuration: the shared core settings (database, NATS, subjects, logging), read once
// from the environment and validated; commands receive this object, never process.env.
import { readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';

export type CliConfig = CoreConfig;

export function loadCliConfig(env: Env = process.env): CliConfig {
  return readCoreConfig(env);
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
