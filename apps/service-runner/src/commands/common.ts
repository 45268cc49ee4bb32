// What every service-runner command shares: the --directory option, the config, a logger on stderr.
import { createLogger, UsageError, type BusConfig, type Logger } from '@fleetvisor/platform';
import { loadRunnerConfig, type RunnerConfig } from '../config';
import { RunnerHome } from '../home/runner-home';

export const directoryOption = {
  directory: { type: 'string', description: 'folder that holds .fleetvisor (default: FLEETVISOR_RUNNER_DIRECTORY or ~/)', placeholder: 'dir' },
} as const;
/**
 * LavaVisor's own spellings (ecosystem/lavavisor/cmd: cobra flags plus the Cosmos SDK's persistent
 * `--log_level` / `--log_format`) are accepted as aliases where our flag means the same; --help
 * names them under this heading.
 */
export const LAVAVISOR_FLAGS = 'LavaVisor flags';

const RUNNER_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The runner's own log level and format for this command (LavaVisor: --log_level, --log_format). */
export const logOptions = {
  'log-level': { type: 'string', description: `this command's log level: ${RUNNER_LOG_LEVELS.join(', ')} (default FLEETVISOR_LOG_LEVEL or info)`, placeholder: 'level', aliases: ['log_level'] },
  'log-format': { type: 'string', description: 'json, pretty or auto (default FLEETVISOR_LOG_FORMAT or auto)', placeholder: 'format', aliases: ['log_format'] },
} as const;

/** The chain id flag, with Cosmos' underscore spelling. */
export const chainIdAliases = ['chain_id'] as const;

export const jsonOption = { json: { type: 'boolean', description: 'print JSON for scripts' } } as const;

/**
 * `query: true` for one-shot commands that show something or send one command and print the answer
 * (services list|status, upgrades list|show|retry|rollback): their
 * logger is at warn, so stderr carries no connection chatter, only problems.
 */
export function setup(
  directory: string | undefined,
  opts: { name?: string; query?: boolean; log?: { 'log-level'?: string | undefined; 'log-format'?: string | undefined } } = {},
): { config: RunnerConfig; home: RunnerHome; logger: Logger } {
  const base = loadRunnerConfig();
  const withDir = directory ? { ...base, directory } : base;
  const config = opts.log ? { ...withDir, core: withLogFlags(withDir.core, opts.log) } : withDir;
  const level = opts.query && !['warn', 'error', 'fatal', 'silent'].includes(config.core.logLevel) ? 'warn' : config.core.logLevel;
  const logger = createLogger({ name: opts.name ?? 'service-runner', level, format: config.core.logFormat, stream: 'stderr' });
  return { config, home: new RunnerHome(config.directory), logger };
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function duration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** The log flags over the configured level and format (exported for its unit test). */
export function withLogFlags(core: BusConfig, log: { 'log-level'?: string | undefined; 'log-format'?: string | undefined }): BusConfig {
  const level = log['log-level'];
  const format = log['log-format'];
  // lavap and LavaVisor also say "warning" and "panic"; panic is as quiet as fatal here.
  const lv = level === 'warning' ? 'warn' : level === 'panic' ? 'fatal' : level;
  if (lv !== undefined && !(RUNNER_LOG_LEVELS as readonly string[]).includes(lv)) throw new UsageError(`--log-level must be one of ${RUNNER_LOG_LEVELS.join(', ')}, got "${level}"`);
  if (format !== undefined && !['json', 'pretty', 'auto'].includes(format)) throw new UsageError(`--log-format must be json, pretty or auto, got "${format}"`);
  return { ...core, ...(lv ? { logLevel: lv as BusConfig['logLevel'] } : {}), ...(format ? { logFormat: format as BusConfig['logFormat'] } : {}) };
}
