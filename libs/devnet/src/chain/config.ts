// Settings of `fleetvisor devnet …`, read once from the environment and validated.
import { envReader, type Env } from '@fleetvisor/platform';

export interface DevnetCliConfig {
  /** Default --node of the client commands (set-version, schedule-upgrade, fault, status). */
  nodeUrl: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'json' | 'pretty' | 'auto';
}

export const DEVNET_DEFAULT_URL = 'http://127.0.0.1:26657';

export function readDevnetCliConfig(env: Env = process.env): DevnetCliConfig {
  const r = envReader(env);
  return {
    nodeUrl: r.url('FLEETVISOR_DEVNET_URL', DEVNET_DEFAULT_URL, ['http', 'https']),
    logLevel: r.oneOf('FLEETVISOR_LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
    logFormat: r.oneOf('FLEETVISOR_LOG_FORMAT', ['json', 'pretty', 'auto'] as const, 'auto'),
  };
}
