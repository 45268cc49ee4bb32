// What every service-runner command shares: the --directory option, the config, a logger on stderr.
import { createLogger, type Logger } from '@fleetvisor/platform';
import { loadRunnerConfig, type RunnerConfig } from '../config';
import { RunnerHome } from '../home/runner-home';

export const directoryOption = {
  directory: { type: 'string', description: 'folder that holds .fleetvisor (default: FLEETVISOR_RUNNER_DIRECTORY or ~/)', placeholder: 'dir' },
} as const;
export const jsonOption = { json: { type: 'boolean', description: 'print JSON for scripts' } } as const;

/**
 * `query: true` for commands that only show something (services list|status, upgrades list): their
 * logger is at warn, so stderr carries no connection chatter, only problems.
 */
export function setup(directory: string | undefined, opts: { name?: string; query?: boolean } = {}): { config: RunnerConfig; home: RunnerHome; logger: Logger } {
  const base = loadRunnerConfig();
  const config = directory ? { ...base, directory } : base;
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
