import { hostname as osHostname } from "node:os";
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

/** Hides the password part of a URL so it can be logged or shown in an error. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@/]*)@/, '//$1:***@');
}

/** Settings every Fleetvisor process shares: where the log and the bus are, how to log. */
export interface CoreConfig {
  databaseUrl: string;
  natsUrl: string;
  /** Root token of every NATS subject (`fleet`); tests use their own. */
  subjectRoot: string;
  /** JetStream stream holding all events. */
  eventStreamName: string;
  eventStreamMaxAgeMs: number;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'json' | 'pretty' | 'auto';
  host: string;
}

export const CORE_DEFAULTS = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/fleetvisor',
  natsUrl: 'nats://127.0.0.1:4222',
};

export function readCoreConfig(env: Env = process.env, hostname: () => string = osHostname): CoreConfig {
  const r = envReader(env);
  return {
    databaseUrl: r.url('FLEETVISOR_DATABASE_URL', CORE_DEFAULTS.databaseUrl, ['postgres', 'postgresql']),
    natsUrl: r.url('FLEETVISOR_NATS_URL', CORE_DEFAULTS.natsUrl, ['nats', 'tls', 'ws', 'wss']),
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
    logLevel: r.oneOf('FLEETVISOR_LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
    logFormat: r.oneOf('FLEETVISOR_LOG_FORMAT', ['json', 'pretty', 'auto'] as const, 'auto'),
    host: r.string('FLEETVISOR_HOST', hostname()),
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
