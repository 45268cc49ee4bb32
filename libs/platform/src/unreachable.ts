// Turns a low-level connection failure into a start-up error an operator can act on: which
// setting, which (redacted) address, what the server or the OS said.
import { redactUrl } from './config';

export class DependencyUnreachableError extends Error {
  constructor(
    readonly variable: string,
    readonly url: string,
    override readonly cause: unknown,
    what: string,
  ) {
    const detail = cause instanceof Error ? cause.message || (cause as { code?: string }).code || cause.name : String(cause);
    super(`cannot reach ${what} at ${redactUrl(url)} (set by ${variable}): ${detail}`);
    this.name = 'DependencyUnreachableError';
  }
}

const CONNECT_FAILURE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECTION_REFUSED', // nats.js
  '28P01', // postgres: password authentication failed
  '28000', // postgres: no pg_hba entry
  '3D000', // postgres: database does not exist
]);

/** True when an error means "could not connect" rather than "the operation failed". */
export function isConnectFailure(e: unknown): boolean {
  const err = e as { code?: unknown; errors?: unknown[]; message?: unknown };
  if (typeof err?.code === 'string' && CONNECT_FAILURE_CODES.has(err.code)) return true;
  if (Array.isArray(err?.errors)) return err.errors.some(isConnectFailure); // AggregateError (IPv4 + IPv6)
  return typeof err?.message === 'string' && /timeout expired|connection terminated unexpectedly/i.test(err.message);
}

/** Runs a step that connects; a connect failure becomes a DependencyUnreachableError naming the variable. */
export async function connectOrExplain<T>(what: string, variable: string, url: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (isConnectFailure(e)) throw new DependencyUnreachableError(variable, url, e, what);
    throw e;
  }
}
