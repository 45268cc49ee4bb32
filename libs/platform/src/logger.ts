// One pino logger per process: JSON lines by default, pretty when stdout is a terminal (or asked
// for), level from config. Secrets are redacted by path before anything is written.
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
];

export interface LoggerOptions {
  name: string;
  level: string;
  format: 'json' | 'pretty' | 'auto';
  /** Standard stream to write to (default stdout); stderr keeps stdout for a command's output. */
  stream?: 'stdout' | 'stderr';
  /** Tests pass a stream to read the JSON lines back (never pretty). */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const fd = opts.stream === 'stderr' ? 2 : 1;
  const onTerminal = (fd === 2 ? process.stderr : process.stdout).isTTY === true;
  const pretty = !opts.destination && (opts.format === 'pretty' || (opts.format === 'auto' && onTerminal));
  const base = {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: fd, colorize: onTerminal, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino(base, opts.destination ?? pino.destination({ fd, sync: true }));
}
