// One NATS connection per process: a short, clear failure when the server cannot be reached at
// start-up (or, for an edge process, waiting for it), then reconnection forever (an outage must
// never end the process). Both are nats.js's own policy, set here in one place.
import { connect, Events, DebugEvents, type ConnectionOptions, type NatsConnection } from 'nats';
import type { Logger } from '@fleetvisor/platform';

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
  /** Extra nats.js options (auth, TLS); the reconnect policy above wins. */
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

function redactNatsUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@/]*)@/, '//$1:***@').replace(/\/\/([^:/@]+)@/, '//***@');
}

export async function connectNats(url: string, logger: Logger, opts: ConnectNatsOptions = {}): Promise<NatsConnection> {
  const setting = opts.urlSetting ?? 'FLEETVISOR_NATS_URL';
  let nc: NatsConnection;
  const timeWait = opts.reconnectTimeWaitMs ?? 500;
  const cancelled = opts.cancelled;
  try {
    nc = await connect({
      ...opts.extra,
      servers: url,
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
    });
  } catch (e) {
    throw new NatsUnavailableError(url, setting, e);
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
          log.error({ err: s.data }, 'NATS async error');
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
    if (err) log.error({ err }, 'NATS connection closed with an error');
    else log.debug('NATS connection closed');
  });
  return nc;
}
