// One NATS connection per process: a short, clear failure when the server cannot be reached at
// start-up (or, for an edge process, waiting for it), then reconnection forever (an outage must
// never end the process). Both are nats.js's own policy, set here in one place. Every NATS
// connection of every process opens here, with the credentials and TLS settings of its config
// (FLEETVISOR_NATS_*), and a refusal names the variable to fix.
import { connect, credsAuthenticator, DebugEvents, Events, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import { redactUrl, Secret, type CoreConfig, type Logger, type NatsAuth, type NatsClientSettings } from '@fleetvisor/platform';

/** Where to connect: a CoreConfig (URL, credentials, TLS), or a bare URL (tests, tools). */
export type NatsTarget = string | (Pick<CoreConfig, 'natsUrl'> & Partial<Pick<CoreConfig, 'nats'>>);

export interface ConnectNatsOptions {
  /** Connection name shown in server monitoring. */
  name?: string;
  /** How long the first connection attempt may take (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Wait between reconnect attempts after the connection was up once (default 500 ms). */
  reconnectTimeWaitMs?: number;
  /** Name of the setting the URL came from, for the error message. */
  urlSetting?: string;
  /**
   * Wait for the server at start-up instead of failing: the client retries every
   * reconnectTimeWaitMs until it connects (edge processes, which must start while NATS is down).
   */
  waitOnFirstConnect?: boolean;
  /** With waitOnFirstConnect: give up waiting (the call rejects) once this returns true. */
  cancelled?: () => boolean;
  /** Extra nats.js options; the reconnect policy above and the configured credentials and TLS win. */
  extra?: Partial<ConnectionOptions>;
}

/** Raised when NATS cannot be reached at start-up; names the setting to fix. */
export class NatsUnavailableError extends Error {
  constructor(readonly url: string, readonly setting: string, cause: unknown) {
    super(
      `cannot connect to NATS at ${redactNatsUrl(url)} (set ${setting} to a reachable nats:// server): ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
    );
    this.name = 'NatsUnavailableError';
    (this as Error & { cause?: unknown }).cause = cause;
  }
}

const ALL_CREDENTIAL_VARIABLES =
  'FLEETVISOR_NATS_USER + FLEETVISOR_NATS_PASSWORD, FLEETVISOR_NATS_TOKEN, FLEETVISOR_NATS_NKEY_SEED or FLEETVISOR_NATS_CREDS';

/** Raised when the server refuses the credentials (or wants some): names the variables to fix. */
export class NatsCredentialsRefusedError extends Error {
  constructor(readonly url: string, readonly variables: readonly string[], serverMessage: string) {
    super(
      variables.length > 0
        ? `NATS at ${redactNatsUrl(url)} refused the credentials (${serverMessage}): check ${variables.join(' / ')}`
        : `NATS at ${redactNatsUrl(url)} requires credentials (${serverMessage}): set ${ALL_CREDENTIAL_VARIABLES}`,
    );
    this.name = 'NatsCredentialsRefusedError';
  }
}

const TLS_VARIABLES_HINT =
  "check FLEETVISOR_NATS_TLS_CA (the CA that signed the server's certificate), FLEETVISOR_NATS_TLS_CERT / FLEETVISOR_NATS_TLS_KEY " +
  '(a client certificate the server accepts) and a tls:// FLEETVISOR_NATS_URL';

/** Raised when TLS with NATS fails: names the TLS variables. */
export class NatsTlsError extends Error {
  constructor(readonly url: string, detail: string, summary = 'failed') {
    super(`TLS with NATS at ${redactNatsUrl(url)} ${summary} (${detail}): ${TLS_VARIABLES_HINT}`);
    this.name = 'NatsTlsError';
  }
}

function redactNatsUrl(url: string): string {
  return redactUrl(url);
}

/** Credentials out of a server list (comma-separated URLs; the same credentials in each, as config checks). */
function splitUrlCredentials(rawList: string): { url: string; auth?: NatsAuth } {
  const parts = rawList.split(',').map((p) => splitOneUrl(p.trim()));
  return { url: parts.map((p) => p.url).join(','), ...(parts[0]?.auth ? { auth: parts[0].auth } : {}) };
}

/** `nats://user:pass@host` or `nats://token@host`, as nats-server's own clients read them (nats.js does not). */
function splitOneUrl(rawUrl: string): { url: string; auth?: NatsAuth } {
  let u: URL;
  try {
    u = new URL(rawUrl);
  } catch {
    return { url: rawUrl };
  }
  if (u.username === '' && u.password === '') return { url: rawUrl };
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  const variables = ['FLEETVISOR_NATS_URL'];
  return {
    url: u.toString(),
    auth: pass !== '' ? { kind: 'user-password', user, password: new Secret(pass), variables } : { kind: 'token', token: new Secret(user), variables },
  };
}

function resolveTarget(target: NatsTarget): { url: string; settings: NatsClientSettings } {
  if (typeof target !== 'string') {
    const split = splitUrlCredentials(target.natsUrl);
    const settings = target.nats ?? {};
    return { url: split.url, settings: settings.auth || !split.auth ? settings : { ...settings, auth: split.auth } };
  }
  const split = splitUrlCredentials(target);
  const tls = target.startsWith('tls://') ? { tls: {} } : {};
  return { url: split.url, settings: { ...(split.auth ? { auth: split.auth } : {}), ...tls } };
}

/** nats.js's own options for the configured credentials and TLS. */
function securityOptions(settings: NatsClientSettings): Partial<ConnectionOptions> {
  const out: Partial<ConnectionOptions> = {};
  const auth = settings.auth;
  const bytes = (secret: Secret) => () => new TextEncoder().encode(secret.reveal());
  switch (auth?.kind) {
    case undefined:
      break;
    case 'user-password':
      out.user = auth.user;
      out.pass = auth.password.reveal();
      break;
    case 'token':
      out.token = auth.token.reveal();
      break;
    case 'nkey':
      out.authenticator = nkeyAuthenticator(bytes(auth.seed));
      break;
    case 'creds':
      out.authenticator = credsAuthenticator(bytes(auth.creds));
      break;
  }
  if (settings.inboxPrefix) out.inboxPrefix = settings.inboxPrefix;
  if (settings.tls) {
    const { caFile, certFile, keyFile } = settings.tls;
    out.tls = { ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) };
  }
  return out;
}

const AUTH_ERROR_CODES = new Set(['AUTHORIZATION_VIOLATION', 'AUTHENTICATION_EXPIRED', 'ACCOUNT_EXPIRED', 'AUTHENTICATION_TIMEOUT']);

function isTlsFailure(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown; chainedError?: unknown };
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : '';
  if (code === 'TLS' || (code === 'SERVER_OPT_NA' && message === 'tls')) return true;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) return true;
  return err?.chainedError !== undefined && isTlsFailure(err.chainedError);
}

/** A start-up failure turned into the error that names what to fix. */
function explainConnectFailure(e: unknown, url: string, setting: string, settings: NatsClientSettings): Error {
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message.replace(/^'|'$/g, '') : String(e);
  if (typeof code === 'string' && AUTH_ERROR_CODES.has(code)) return new NatsCredentialsRefusedError(url, settings.auth?.variables ?? [], message);
  if (isTlsFailure(e)) {
    const chained = (e as { chainedError?: unknown }).chainedError;
    const detail = code === 'SERVER_OPT_NA' ? 'the server offers no TLS' : chained instanceof Error ? chained.message : message;
    return new NatsTlsError(url, detail);
  }
  // A server that refuses the client certificate ends the handshake without a protocol error, so
  // the client only sees the connection never complete.
  if (settings.tls && code === 'TIMEOUT') return new NatsTlsError(url, 'TIMEOUT; a server that refuses a client certificate closes without saying why', 'did not complete');
  return new NatsUnavailableError(url, setting, e);
}

export async function connectNats(target: NatsTarget, logger: Logger, opts: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const setting = opts.urlSetting ?? 'FLEETVISOR_NATS_URL';
  const { url, settings } = resolveTarget(target);
  let nc: NatsConnection;
  const timeWait = opts.reconnectTimeWaitMs ?? 500;
  const cancelled = opts.cancelled;
  try {
    nc = await connect({
      ...opts.extra,
      servers: url.split(','),
      name: opts.name ?? opts.extra?.name,
      timeout: opts.connectTimeoutMs ?? 3_000,
      // Only the very first connect fails fast (unless asked to wait); afterwards we reconnect forever.
      waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: timeWait,
      reconnectJitter: 100,
      // The client asks for the next wait before each attempt; throwing there is the one way to end
      // a wait for the first connection, which the client offers no call to abort.
      ...(cancelled
        ? {
            reconnectDelayHandler: () => {
              if (cancelled()) throw new Error('connection attempt cancelled');
              return timeWait + Math.floor(Math.random() * 100);
            },
          }
        : {}),
      pingInterval: opts.extra?.pingInterval ?? 10_000,
      ...securityOptions(settings),
    });
  } catch (e) {
    throw explainConnectFailure(e, url, setting, settings);
  }
  const log = logger.child({ component: 'nats' });
  log.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case Events.Disconnect:
          log.warn({ server: s.data }, 'NATS disconnected; reconnecting');
          break;
        case Events.Reconnect:
          log.info({ server: s.data }, 'NATS reconnected');
          break;
        case Events.Error:
          // After a reconnection the server may refuse credentials it accepted before (rotated or revoked).
          if (typeof s.data === 'string' && AUTH_ERROR_CODES.has(s.data)) {
            log.error({ err: s.data }, new NatsCredentialsRefusedError(url, settings.auth?.variables ?? [], s.data).message);
          } else {
            log.error({ err: s.data }, 'NATS async error');
          }
          break;
        case DebugEvents.StaleConnection:
          log.warn('NATS connection stale');
          break;
        default:
          break;
      }
    }
  })().catch(() => undefined);
  void nc.closed().then((err) => {
    // Credentials revoked or rotated on the server while this process kept the old ones.
    if (err) log.error({ err: explainConnectFailure(err, url, setting, settings) }, 'NATS connection closed with an error');
    else log.debug('NATS connection closed');
  });
  return nc;
}
