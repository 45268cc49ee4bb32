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
  /** Where JSON lines go (default stdout); tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && !opts.destination && process.stdout.isTTY === true);
  const base = {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return opts.destination ? pino(base, opts.destination) : pino(base);
}
