import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { homedir, hostname as osHostname } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
// Typed, validated configuration read once from the environment. Each app declares its own
// config module with these readers; nothing else in the code reads process.env.
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvReader {
  string(name: string, def: string): string;
  optionalString(name: string): string | undefined;
  int(name: string, def: number, opts?: { min?: number; max?: number }): number;
  bool(name: string, def: boolean): boolean;
  oneOf<T extends string>(name: string, values: readonly T[], def: T): T;
  url(name: string, def: string, protocols: readonly string[]): string;
  /** Duration like `500ms`, `15s`, `10m`, `2h` (a bare number is milliseconds); returns ms. */
  duration(name: string, def: string): number;
}

export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const mult = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return Math.round(n * mult);
}

export function envReader(env: Env = process.env): EnvReader {
  const raw = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  return {
    string: (name, def) => raw(name) ?? def,
    optionalString: (name) => raw(name),
    int(name, def, opts = {}) {
      const v = raw(name);
      if (v === undefined) return def;
      if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `expected an integer, got "${v}"`);
      const n = Number(v);
      if (opts.min !== undefined && n < opts.min) throw new ConfigError(name, `must be >= ${opts.min}, got ${n}`);
      if (opts.max !== undefined && n > opts.max) throw new ConfigError(name, `must be <= ${opts.max}, got ${n}`);
      return n;
    },
    bool(name, def) {
      const v = raw(name);
      if (v === undefined) return def;
      if (/^(1|true|yes|on)$/i.test(v)) return true;
      if (/^(0|false|no|off)$/i.test(v)) return false;
      throw new ConfigError(name, `expected true/false, got "${v}"`);
    },
    oneOf(name, values, def) {
      const v = raw(name);
      if (v === undefined) return def;
      if (!(values as readonly string[]).includes(v)) throw new ConfigError(name, `expected one of ${values.join(', ')}, got "${v}"`);
      return v as (typeof values)[number];
    },
    url(name, def, protocols) {
      const v = raw(name) ?? def;
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw new ConfigError(name, `not a valid URL: "${redactUrl(v)}"`);
      }
      if (!protocols.includes(u.protocol.replace(/:$/, ''))) {
        throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got "${redactUrl(v)}"`);
      }
      return v;
    },
    duration(name, def) {
      const v = raw(name) ?? def;
      const ms = parseDuration(v);
      if (ms === undefined) throw new ConfigError(name, `expected a duration like 500ms, 15s, 10m, got "${v}"`);
      return ms;
    },
  };
}

/**
 * Hides the password part of a URL so it can be logged or shown in an error; in a NATS URL a lone
 * user part is a token (`nats://token@host`) and is hidden too.
 */
export function redactUrl(url: string): string {
  // A NATS URL may list several servers (comma-separated): each is redacted.
  if (/^(nats|tls|wss?):\/\//i.test(url) && url.includes(',')) return url.split(',').map(redactUrl).join(',');
  const r = url.replace(/\/\/([^:/@]+):([^@/]*)@/, '//$1:***@');
  return /^(nats|tls|wss?):\/\//i.test(r) ? r.replace(/\/\/([^:/@]+)@/, '//***@') : r;
}

/**
 * A secret read from the configuration (a password, a token, a seed, a .creds file). It keeps the
 * value in a private field and shows itself as `[redacted]` to JSON.stringify (pino), util.inspect
 * and string conversion, so a logged or printed config cannot leak it; only reveal() gives it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return '[redacted]';
  }

  toString(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/**
 * How a process proves itself to NATS, with the variables it came from (named when the server
 * refuses). One method per connection: the server checks exactly one.
 */
export type NatsAuth =
  | { readonly kind: 'user-password'; readonly user: string; readonly password: Secret; readonly variables: readonly string[] }
  | { readonly kind: 'token'; readonly token: Secret; readonly variables: readonly string[] }
  | { readonly kind: 'nkey'; readonly seed: Secret; readonly variables: readonly string[] }
  /** The contents of a .creds file (user JWT + NKey seed), read at start. */
  | { readonly kind: 'creds'; readonly creds: Secret; readonly file: string; readonly variables: readonly string[] };

/** TLS towards NATS; files are checked readable at start and read by the client at each connection. */
export interface NatsTlsSettings {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface NatsClientSettings {
  /** Undefined: connect without credentials. */
  readonly auth?: NatsAuth;
  /** Set (possibly empty): TLS is required (a tls:// URL, a CA or a client certificate was given). */
  readonly tls?: NatsTlsSettings;
  /**
   * FLEETVISOR_NATS_INBOX_PREFIX: where this process's replies arrive (nats.js `inboxPrefix`). Each
   * identity of `fleetvisor nats-config` may subscribe only its own prefix, so no one reads another's
   * replies. Undefined: nats.js's `_INBOX`.
   */
  readonly inboxPrefix?: string;
}

export type DatabaseSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';
export const DATABASE_SSL_MODES: readonly DatabaseSslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];

/** Postgres credentials and TLS kept apart from the URL (which then carries no password). */
export interface DatabaseCredentials {
  readonly password?: Secret;
  /** The variable the password came from, named when the server refuses it. */
  readonly passwordVariable?: string;
  /** Undefined: whatever the URL says (its `sslmode`, else no TLS). */
  readonly sslMode?: DatabaseSslMode;
  /** PEM contents of FLEETVISOR_DATABASE_SSL_CA, read at start. */
  readonly sslCa?: string;
}

/** Settings every Fleetvisor process shares: where the log and the bus are, how to log. */
export interface CoreConfig {
  /** The database URL without its password (safe to log); the password is in `database`. */
  databaseUrl: string;
  database: DatabaseCredentials;
  /** The NATS URL without credentials (safe to log); they are in `nats`. */
  natsUrl: string;
  nats: NatsClientSettings;
  /** Root token of every NATS subject (`fleet`); tests use their own. */
  subjectRoot: string;
  /** JetStream stream holding all events. */
  eventStreamName: string;
  eventStreamMaxAgeMs: number;
  /**
   * Size limits `fleetvisor migrate` gives the event and dead-letter streams (8 GiB and 1 GiB).
   * JetStream reserves a stream's limit on its server, so a small installation or a test suite
   * asks for less.
   */
  eventStreamMaxBytes: number;
  deadLetterStreamMaxBytes: number;
  /** Copies of the streams and the key bucket across a JetStream cluster (1; 3 in a three-node cluster). */
  eventStreamReplicas: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'json' | 'pretty' | 'auto';
  host: string;
  /**
   * FLEETVISOR_HEALTH_LISTEN: where a long-running service serves /health/live, /health/ready and
   * /metrics (host:port); unset, it serves none (one-shot commands never do).
   */
  healthListen?: string;
}

export const CORE_DEFAULTS = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/fleetvisor',
  natsUrl: 'nats://127.0.0.1:4222',
};

/**
 * The settings of a process that holds no database credentials (a host's service-runner and
 * worker-agent, ADR 0006): CoreConfig without the log. Read by readBusConfig, which never looks at
 * FLEETVISOR_DATABASE_*.
 */
export type BusConfig = Omit<CoreConfig, 'databaseUrl' | 'database'>;

/** Parses host:port (IPv6 in brackets); the variable is named in the error. */
export function parseListen(variable: string, text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65_535) throw new ConfigError(variable, `expected host:port, e.g. 127.0.0.1:9472 or 0.0.0.0:9472, got "${text}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export function readCoreConfig(env: Env = process.env, hostname: () => string = osHostname): CoreConfig {
  const r = envReader(env);
  const databaseUrl = r.url('FLEETVISOR_DATABASE_URL', CORE_DEFAULTS.databaseUrl, ['postgres', 'postgresql']);
  const database = readDatabaseCredentials(env, databaseUrl);
  return { databaseUrl: database.url, database: database.credentials, ...readBusConfig(env, hostname) };
}

/** The bus and logging settings only (FLEETVISOR_NATS_*, subject root, stream, log, host); FLEETVISOR_DATABASE_* is not read. */
export function readBusConfig(env: Env = process.env, hostname: () => string = osHostname): BusConfig {
  const r = envReader(env);
  const natsUrl = natsServerList(env);
  const nats = readNatsClientSettings(env, natsUrl);
  const healthListen = r.optionalString('FLEETVISOR_HEALTH_LISTEN');
  if (healthListen !== undefined) parseListen('FLEETVISOR_HEALTH_LISTEN', healthListen);
  return {
    natsUrl: nats.url,
    nats: nats.settings,
    subjectRoot: (() => {
      const v = r.string('FLEETVISOR_SUBJECT_ROOT', 'fleet');
      if (!/^[a-z][a-z0-9_]{0,31}$/.test(v)) throw new ConfigError('FLEETVISOR_SUBJECT_ROOT', `lowercase letters, digits and _ only, got "${v}"`);
      return v;
    })(),
    eventStreamName: (() => {
      const v = r.string('FLEETVISOR_EVENT_STREAM', 'FLEET_EVENTS');
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(v)) throw new ConfigError('FLEETVISOR_EVENT_STREAM', `letters, digits, _ and - only, got "${v}"`);
      return v;
    })(),
    eventStreamMaxAgeMs: r.duration('FLEETVISOR_EVENT_STREAM_MAX_AGE', '30d'),
    eventStreamMaxBytes: r.int('FLEETVISOR_EVENT_STREAM_MAX_BYTES', 8 * 1024 ** 3, { min: 1024 ** 2 }),
    deadLetterStreamMaxBytes: r.int('FLEETVISOR_DEAD_LETTER_STREAM_MAX_BYTES', 1024 ** 3, { min: 1024 ** 2 }),
    eventStreamReplicas: r.int('FLEETVISOR_EVENT_STREAM_REPLICAS', 1, { min: 1, max: 5 }),
    logLevel: r.oneOf('FLEETVISOR_LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
    logFormat: r.oneOf('FLEETVISOR_LOG_FORMAT', ['json', 'pretty', 'auto'] as const, 'auto'),
    host: r.string('FLEETVISOR_HOST', hostname()),
    ...(healthListen !== undefined ? { healthListen } : {}),
  };
}

function nonEmpty(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** A file's contents for a setting, or a ConfigError naming the variable (never the contents). */
function readConfigFile(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(variable, `cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function checkReadable(variable: string, file: string): string {
  try {
    accessSync(file, fsConstants.R_OK);
  } catch (e) {
    throw new ConfigError(variable, `cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return file;
}

/**
 * A secret given either in NAME or in a file named by NAME_FILE (for secret stores that mount
 * files). Returns the secret and the variable it came from.
 */
export function readSecret(env: Env, name: string): { secret: Secret; variable: string } | undefined {
  const fileVar = `${name}_FILE`;
  const direct = nonEmpty(env, name);
  const file = nonEmpty(env, fileVar);
  if (direct !== undefined && file !== undefined) throw new ConfigError(fileVar, `${name} is set too; set only one of them`);
  if (direct !== undefined) return { secret: new Secret(direct), variable: name };
  if (file === undefined) return undefined;
  // A trailing newline is what editors and `echo` add, never part of the secret.
  const value = readConfigFile(fileVar, file).replace(/\r?\n$/, '');
  if (value === '') throw new ConfigError(fileVar, `"${file}" is empty`);
  return { secret: new Secret(value), variable: fileVar };
}

const NKEY_USER_SEED = /^SU[A-Z2-7]{56}$/;

/**
 * FLEETVISOR_NATS_URL: one server, or the servers of a cluster separated by commas (the client
 * connects to any that answers and fails over between them). Each must be a NATS URL; credentials in
 * them, if any, must be the same in all (one connection, one identity).
 */
function natsServerList(env: Env): string {
  const raw = nonEmpty(env, 'FLEETVISOR_NATS_URL') ?? CORE_DEFAULTS.natsUrl;
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new ConfigError('FLEETVISOR_NATS_URL', `an empty server in the list "${redactUrl(raw)}"`);
  const userInfo = new Set(
    parts.map((p) => {
      let u: URL;
      try {
        u = new URL(p);
      } catch {
        throw new ConfigError('FLEETVISOR_NATS_URL', `not a valid URL: "${redactUrl(p)}"`);
      }
      if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(u.protocol)) throw new ConfigError('FLEETVISOR_NATS_URL', `expected a nats or tls or ws or wss URL, got "${redactUrl(p)}"`);
      return `${u.username}:${u.password}`;
    }),
  );
  if (userInfo.size > 1) throw new ConfigError('FLEETVISOR_NATS_URL', 'the servers carry different credentials; a connection uses one (or set them apart, e.g. FLEETVISOR_NATS_NKEY_SEED_FILE)');
  return parts.join(',');
}

function readNatsClientSettings(env: Env, rawList: string): { url: string; settings: NatsClientSettings } {
  const servers = rawList.split(',').map((s) => new URL(s));
  const u = servers[0]!;
  let fromUrl: NatsAuth | undefined;
  if (u.username !== '' || u.password !== '') {
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    // NATS's own convention: `nats://user:pass@host`, or `nats://token@host` for a token.
    fromUrl = pass !== ''
      ? { kind: 'user-password', user, password: new Secret(pass), variables: ['FLEETVISOR_NATS_URL'] }
      : { kind: 'token', token: new Secret(user), variables: ['FLEETVISOR_NATS_URL'] };
    for (const s of servers) {
      s.username = '';
      s.password = '';
    }
  }
  const url = fromUrl ? servers.map((s) => s.toString()).join(',') : rawList;

  const found: NatsAuth[] = fromUrl ? [fromUrl] : [];
  const user = nonEmpty(env, 'FLEETVISOR_NATS_USER');
  const password = readSecret(env, 'FLEETVISOR_NATS_PASSWORD');
  if (user !== undefined && !password) throw new ConfigError('FLEETVISOR_NATS_PASSWORD', 'FLEETVISOR_NATS_USER is set, its password is missing (FLEETVISOR_NATS_PASSWORD or FLEETVISOR_NATS_PASSWORD_FILE)');
  if (user === undefined && password) throw new ConfigError('FLEETVISOR_NATS_USER', `${password.variable} is set, the user it belongs to is missing`);
  if (user !== undefined && password) found.push({ kind: 'user-password', user, password: password.secret, variables: ['FLEETVISOR_NATS_USER', password.variable] });
  const token = readSecret(env, 'FLEETVISOR_NATS_TOKEN');
  if (token) found.push({ kind: 'token', token: token.secret, variables: [token.variable] });
  const seed = readSecret(env, 'FLEETVISOR_NATS_NKEY_SEED');
  if (seed) {
    if (!NKEY_USER_SEED.test(seed.secret.reveal())) throw new ConfigError(seed.variable, 'not an NKey user seed (58 characters starting with SU)');
    found.push({ kind: 'nkey', seed: seed.secret, variables: [seed.variable] });
  }
  const credsFile = nonEmpty(env, 'FLEETVISOR_NATS_CREDS');
  if (credsFile !== undefined) {
    const creds = readConfigFile('FLEETVISOR_NATS_CREDS', credsFile);
    if (!/BEGIN NATS USER JWT/.test(creds) || !/BEGIN USER NKEY SEED/.test(creds)) {
      throw new ConfigError('FLEETVISOR_NATS_CREDS', `"${credsFile}" is not a NATS .creds file (a user JWT and its NKey seed)`);
    }
    found.push({ kind: 'creds', creds: new Secret(creds), file: credsFile, variables: ['FLEETVISOR_NATS_CREDS'] });
  }
  if (found.length > 1) {
    const names = found.map((a) => a.variables.join(' + ')).join(', ');
    throw new ConfigError(found[1]!.variables[0]!, `more than one NATS credential is set (${names}); a connection uses exactly one`);
  }

  const caFile = nonEmpty(env, 'FLEETVISOR_NATS_TLS_CA');
  const certFile = nonEmpty(env, 'FLEETVISOR_NATS_TLS_CERT');
  const keyFile = nonEmpty(env, 'FLEETVISOR_NATS_TLS_KEY');
  if (certFile !== undefined && keyFile === undefined) throw new ConfigError('FLEETVISOR_NATS_TLS_KEY', 'FLEETVISOR_NATS_TLS_CERT is set, the key of that certificate is missing');
  if (keyFile !== undefined && certFile === undefined) throw new ConfigError('FLEETVISOR_NATS_TLS_CERT', 'FLEETVISOR_NATS_TLS_KEY is set, the certificate it belongs to is missing');
  const tlsWanted = servers.some((s) => s.protocol === 'tls:') || caFile !== undefined || certFile !== undefined;
  const tls: NatsTlsSettings | undefined = tlsWanted
    ? {
        ...(caFile !== undefined ? { caFile: checkReadable('FLEETVISOR_NATS_TLS_CA', caFile) } : {}),
        ...(certFile !== undefined ? { certFile: checkReadable('FLEETVISOR_NATS_TLS_CERT', certFile) } : {}),
        ...(keyFile !== undefined ? { keyFile: checkReadable('FLEETVISOR_NATS_TLS_KEY', keyFile) } : {}),
      }
    : undefined;
  const inboxPrefix = nonEmpty(env, 'FLEETVISOR_NATS_INBOX_PREFIX');
  // Subject tokens without wildcards: the client appends `.<id>` to it for each inbox.
  if (inboxPrefix !== undefined && !/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/.test(inboxPrefix)) {
    throw new ConfigError('FLEETVISOR_NATS_INBOX_PREFIX', `subject tokens of letters, digits, _, - and $ joined by dots, got "${inboxPrefix}"`);
  }
  return { url, settings: { ...(found[0] ? { auth: found[0] } : {}), ...(tls ? { tls } : {}), ...(inboxPrefix !== undefined ? { inboxPrefix } : {}) } };
}

function readDatabaseCredentials(env: Env, rawUrl: string): { url: string; credentials: DatabaseCredentials } {
  const u = new URL(rawUrl);
  const inUrl = u.password !== '' ? decodeURIComponent(u.password) : undefined;
  const password = readSecret(env, 'FLEETVISOR_DATABASE_PASSWORD');
  if (inUrl !== undefined && password) {
    throw new ConfigError(password.variable, 'FLEETVISOR_DATABASE_URL carries a password too; give it one way');
  }
  let url = rawUrl;
  if (inUrl !== undefined) {
    u.password = '';
    url = u.toString();
  }
  const r = envReader(env);
  const modeRaw = nonEmpty(env, 'FLEETVISOR_DATABASE_SSLMODE');
  const sslMode = modeRaw === undefined ? undefined : r.oneOf('FLEETVISOR_DATABASE_SSLMODE', DATABASE_SSL_MODES, 'verify-full');
  const caFile = nonEmpty(env, 'FLEETVISOR_DATABASE_SSL_CA');
  if ((sslMode !== undefined || caFile !== undefined) && u.searchParams.has('sslmode')) {
    throw new ConfigError(sslMode !== undefined ? 'FLEETVISOR_DATABASE_SSLMODE' : 'FLEETVISOR_DATABASE_SSL_CA', 'FLEETVISOR_DATABASE_URL has an sslmode parameter too; give TLS settings one way');
  }
  if (caFile !== undefined && sslMode === 'disable') throw new ConfigError('FLEETVISOR_DATABASE_SSL_CA', 'is set while FLEETVISOR_DATABASE_SSLMODE is disable');
  const sslCa = caFile === undefined ? undefined : readConfigFile('FLEETVISOR_DATABASE_SSL_CA', caFile);
  if (sslCa !== undefined && !sslCa.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('FLEETVISOR_DATABASE_SSL_CA', `"${caFile}" holds no PEM certificate`);
  // A CA without a mode means the operator wants the server checked against it.
  const mode = sslMode ?? (sslCa !== undefined ? 'verify-full' : undefined);
  const secret = password ?? (inUrl !== undefined ? { secret: new Secret(inUrl), variable: 'FLEETVISOR_DATABASE_URL' } : undefined);
  return {
    url,
    credentials: {
      ...(secret ? { password: secret.secret, passwordVariable: secret.variable } : {}),
      ...(mode ? { sslMode: mode } : {}),
      ...(sslCa !== undefined ? { sslCa } : {}),
    },
  };
}

/**
 * Set by a Fleetvisor process that starts another one (the CLI for an app's command, `up` for its
 * services) to its own pid: the child stops itself (SIGTERM) when that parent is gone, even if the
 * parent was killed with SIGKILL and could not pass a signal on.
 */
export const PARENT_PID_VARIABLE = 'FLEETVISOR_PARENT_PID';

export function readParentPid(env: Env = process.env): number | undefined {
  const raw = env[PARENT_PID_VARIABLE];
  if (raw === undefined || raw === '') return undefined;
  const pid = Number(raw);
  return Number.isInteger(pid) && pid > 1 ? pid : undefined;
}

/** This process's environment plus `extra`: what a child process it starts gets. */
export function environmentWith(extra: Record<string, string>, env: Env = process.env): Record<string, string | undefined> {
  return { ...env, ...extra };
}

/**
 * Where `fleetvisor up` keeps its demo host and state between starts (FLEETVISOR_UP_STATE_DIR,
 * default ~/.fleetvisor-up): read by up itself and named by the service-runner's hints.
 */
export function readUpStateDir(env: Env = process.env): string {
  const v = env['FLEETVISOR_UP_STATE_DIR'];
  return path.resolve(v !== undefined && v !== '' ? v : path.join(homedir(), '.fleetvisor-up'));
}

/**
 * What a command line needs to ask a fleet through its REST gateway (`--url`): the token from
 * FLEETVISOR_TOKEN, and the config home holding fleetvisor/gateway.json (XDG_CONFIG_HOME, else
 * ~/.config).
 */
export function readGatewayClientEnv(env: Env = process.env): { token: string | undefined; configHome: string } {
  const xdg = env.XDG_CONFIG_HOME?.trim();
  return { token: env.FLEETVISOR_TOKEN?.trim() || undefined, configHome: xdg ? xdg : path.join(env.HOME ?? homedir(), '.config') };
}
