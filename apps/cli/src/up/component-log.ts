// Lines the components of `fleetvisor up` print are pino JSON; they are passed on through this
// process's logger (so one format, one destination), tagged with the component. Anything else is
// passed on as text. The component is the `process` field (its own `component` field, e.g.
// outbox-relay inside the worker-registry, is kept).
import type { Logger } from '@fleetvisor/platform';

const LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const DROPPED = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'name', 'v']);

export function relayComponentLine(logger: Logger, component: string, line: string): void {
  const trimmed = line.trim();
  if (trimmed === '') return;
  let parsed: unknown;
  if (trimmed.startsWith('{')) {
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      parsed = undefined;
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    logger.info({ process: component }, trimmed);
    return;
  }
  const record = parsed as Record<string, unknown>;
  const level = LEVELS[typeof record['level'] === 'number' ? record['level'] : 30] ?? 'info';
  const fields: Record<string, unknown> = { process: component };
  for (const [k, v] of Object.entries(record)) if (!DROPPED.has(k)) fields[k] = v;
  logger[level](fields, typeof record['msg'] === 'string' ? record['msg'] : '');
}
