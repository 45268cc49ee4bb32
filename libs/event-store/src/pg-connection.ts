// Where a process's Postgres connections come from: the URL (without a password) plus the
// credentials and TLS settings the config module read (FLEETVISOR_DATABASE_PASSWORD[_FILE],
// _SSLMODE, _SSL_CA). Every pg Pool / Client and the TypeORM DataSource the event store opens is
// configured here, so none of them can miss the password or the TLS settings.
import type { ConnectionOptions } from 'node:tls';
import type { DatabaseCredentials } from '@fleetvisor/platform';

/** A bare URL (tests, tools) or a CoreConfig (anything with its databaseUrl and database). */
export type DatabaseTarget = string | { readonly databaseUrl: string; readonly database?: DatabaseCredentials };

/** The URL, without a password: safe to show. */
export function databaseUrlOf(target: DatabaseTarget): string {
  return typeof target === 'string' ? target : target.databaseUrl;
}

/** The same server and credentials, another database (the admin connection of ensureDatabase). */
export function withDatabaseName(target: DatabaseTarget, name: string): DatabaseTarget {
  const u = new URL(databaseUrlOf(target));
  u.pathname = `/${encodeURIComponent(name)}`;
  return typeof target === 'string' ? u.toString() : { ...target, databaseUrl: u.toString() };
}

/** The node TLS options a libpq sslmode comes down to (what pg and TypeORM pass to tls.connect). */
export interface PgSslOptions {
  ca?: string;
  rejectUnauthorized: boolean;
  checkServerIdentity?: ConnectionOptions['checkServerIdentity'];
}

export interface PgConnectionSettings {
  /** Carries the password when one is configured: never log it. */
  connectionString: string;
  ssl?: PgSslOptions | false;
}

/** node's TLS options for a libpq sslmode. */
function sslOptions(creds: DatabaseCredentials): PgSslOptions | false | undefined {
  const ca = creds.sslCa !== undefined ? { ca: creds.sslCa } : {};
  switch (creds.sslMode) {
    case undefined:
      return undefined;
    case 'disable':
      return false;
    // As libpq: `require` encrypts without checking the server, unless a CA is given (then verify-ca).
    case 'require':
      return creds.sslCa !== undefined ? { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
    case 'verify-ca':
      return { ...ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...ca, rejectUnauthorized: true };
  }
}

/**
 * What pg (and TypeORM's `url` / `ssl`) needs. The password goes into the connection string
 * rather than pg's `password` option because pg lets the parsed connection string override the
 * explicit options, an empty password included.
 */
export function pgConnectionSettings(target: DatabaseTarget): PgConnectionSettings {
  if (typeof target === 'string') return { connectionString: target };
  const creds = target.database ?? {};
  let connectionString = target.databaseUrl;
  if (creds.password) {
    const u = new URL(target.databaseUrl);
    u.password = encodeURIComponent(creds.password.reveal());
    connectionString = u.toString();
  }
  const ssl = sslOptions(creds);
  return { connectionString, ...(ssl !== undefined ? { ssl } : {}) };
}

/** Raised when Postgres refuses the login: names the variable that holds the password. */
export class DatabaseCredentialsRefusedError extends Error {
  constructor(
    message: string,
    /** The server's SQLSTATE (28P01 / 28000), kept so callers still see a connect failure. */
    readonly code: string,
  ) {
    super(message);
    this.name = 'DatabaseCredentialsRefusedError';
  }
}

/** Raised when TLS with Postgres fails: names the TLS variables. */
export class DatabaseTlsError extends Error {
  readonly code: string;

  constructor(detail: string, code: string) {
    super(`TLS with PostgreSQL failed (${detail}): check FLEETVISOR_DATABASE_SSLMODE and FLEETVISOR_DATABASE_SSL_CA`);
    this.name = 'DatabaseTlsError';
    this.code = code;
  }
}

const TLS_FAILURE_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_SSL|ERR_TLS/;

/**
 * A refused login becomes DatabaseCredentialsRefusedError, a failed TLS handshake DatabaseTlsError,
 * each naming the variables to fix; anything else is returned as it is.
 */
export function explainPgRefusal(e: unknown, target: DatabaseTarget): unknown {
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  const creds = typeof target === 'string' ? undefined : target.database;
  if (/client password must be a string/.test(message)) {
    // pg's own wording when the server asks for a password (SCRAM) and there is none.
    return new DatabaseCredentialsRefusedError(
      'PostgreSQL asks for a password and none is configured: set FLEETVISOR_DATABASE_PASSWORD or FLEETVISOR_DATABASE_PASSWORD_FILE',
      '28P01',
    );
  }
  if (typeof code === 'string' && TLS_FAILURE_CODES.test(code)) return new DatabaseTlsError(message, code);
  if (/does not support SSL/i.test(message)) return new DatabaseTlsError(message, 'SSL_NOT_SUPPORTED');
  if (code !== '28P01' && code !== '28000') return e;
  const variable = creds?.passwordVariable ?? 'FLEETVISOR_DATABASE_PASSWORD / FLEETVISOR_DATABASE_PASSWORD_FILE';
  // 28000: no pg_hba.conf line lets this login in, often one that requires TLS.
  const tls = code === '28000' ? ' and FLEETVISOR_DATABASE_SSLMODE' : '';
  return new DatabaseCredentialsRefusedError(`PostgreSQL refused the credentials (${message}): check ${variable}${tls}`, code);
}
