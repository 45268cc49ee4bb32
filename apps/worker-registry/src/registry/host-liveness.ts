// HostLiveness (issue 14): runner hosts say they are alive with a scoped heartbeat
// (`<root>.cmd.worker-registry.host-heartbeat.<host>`); a host silent past the expiration gets one
// HostExpired (appended to host-<host>), its next heartbeat a HostReturned. A HostOffline (the runner
// stopped cleanly) marks it offline: a stopped host is not silent, so it never expires.
// Last-seen times live in memory; a registry that starts reads the last host event of each host from
// the log (restore), so a host that went silent while no registry listened still expires; an online
// host gets a whole expiration from the registry's start, so time it was not running does not count.
import type { NatsConnection } from 'nats';
import { CommandFailure } from '@fleetvisor/messaging';
import { HostExpired, HostReturned, newEventFor, type CommandRequestOf, type CommandResultOf, type EventEnvelope, type HostHeartbeat, type HostState, type HostsList, type HostSummary, type RecordedEvent, type Subjects } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';

/** Where HostExpired / HostReturned go (the registry's event store). */
export interface HostEventSink {
  appendToStream(stream: string, events: readonly EventEnvelope[]): Promise<unknown>;
}

export interface HostLivenessOptions {
  /** Host of this registry process, recorded in event metadata. */
  host: string;
  expirationMs: number;
  expiryCheckIntervalMs: number;
  clock?: () => number;
}

interface HostEntry {
  state: HostState;
  lastSeenMs: number;
  sinceMs: number;
  version?: string;
  services?: number;
}

export class HostLiveness {
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly hosts = new Map<string, HostEntry>();
  private timer: NodeJS.Timeout | undefined;
  private expiring = false;

  constructor(
    private readonly sink: HostEventSink,
    private readonly opts: HostLivenessOptions,
    logger: Logger,
  ) {
    this.now = opts.clock ?? Date.now;
    this.log = logger.child({ component: 'host-liveness' });
  }

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.expireSilent(), this.opts.expiryCheckIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The HostReturned being recorded per host, which concurrent heartbeats of that host wait for. */
  private readonly returning = new Map<string, Promise<void>>();

  /** A heartbeat on the subject of `scope`: refused when the body names another host. */
  async heartbeat(req: CommandRequestOf<typeof HostHeartbeat>, scope: string | undefined): Promise<CommandResultOf<typeof HostHeartbeat>> {
    if (scope === undefined || scope !== req.host) {
      this.log.warn({ host: req.host, scope }, 'heartbeat refused: the body names another host than the subject');
      throw new CommandFailure('forbidden', `heartbeat refused: the body names host "${req.host}" but the subject is for "${scope ?? '(none)'}"`);
    }
    const now = this.now();
    const prev = this.hosts.get(req.host);
    if (prev?.state === 'expired') {
      // One HostReturned per return: heartbeats a host held while cut off arrive together when its
      // link heals, and each would find it still expired while the first one's append is under
      // way, so they all wait for that one. Recorded before the state changes: if the append fails
      // the runner's next heartbeat tries again.
      let returning = this.returning.get(req.host);
      if (!returning) {
        const lastSeen = new Date(prev.lastSeenMs).toISOString();
        returning = this.append(newEventFor(HostReturned, { host: req.host, lastSeen, absentMs: Math.max(0, now - prev.lastSeenMs) }, { host: this.opts.host }))
          .then(() => {
            const cur = this.hosts.get(req.host);
            if (cur?.state === 'expired') this.hosts.set(req.host, { ...cur, state: 'online', lastSeenMs: now, sinceMs: now });
          })
          .finally(() => this.returning.delete(req.host));
        this.returning.set(req.host, returning);
      }
      await returning;
    }
    const entry: HostEntry = {
      state: 'online',
      lastSeenMs: now,
      sinceMs: prev?.state === 'online' ? prev.sinceMs : now,
      version: req.fleetvisorVersion,
      services: req.services,
    };
    this.hosts.set(req.host, entry);
    return { host: req.host, state: 'online' };
  }

  /**
   * What the log says of the hosts, read once at start (the last host event of each): a registry
   * that starts (a restart, a failover) knows every host the fleet had, so one that went silent
   * while no registry was listening still expires. An online host counts as seen at `startMs`, so it
   * gets a whole expiration to send its next heartbeat. A heartbeat heard first wins.
   */
  restore(last: ReadonlyMap<string, { type: string; atMs: number; lastSeenMs?: number }>, startMs: number = this.now()): number {
    let restored = 0;
    for (const [host, e] of last) {
      if (this.hosts.has(host)) continue;
      if (e.type === 'HostOnline' || e.type === 'HostReturned') this.hosts.set(host, { state: 'online', lastSeenMs: startMs, sinceMs: e.atMs });
      else if (e.type === 'HostExpired') this.hosts.set(host, { state: 'expired', lastSeenMs: e.lastSeenMs ?? e.atMs, sinceMs: e.atMs });
      else if (e.type === 'HostOffline') this.hosts.set(host, { state: 'offline', lastSeenMs: e.atMs, sinceMs: e.atMs });
      else continue;
      restored++;
    }
    return restored;
  }

  /** HostOnline / HostOffline of a runner (from the bus): online from its start, offline on a clean stop. */
  observe(type: string, host: string, atMs: number): void {
    if (type !== 'HostOnline' && type !== 'HostOffline') return;
    const prev = this.hosts.get(host);
    // An older event (the bus redelivers, or arrives after a newer heartbeat) changes nothing.
    if (prev && prev.lastSeenMs > atMs) return;
    // A silent host that starts again stays expired until its first heartbeat, which records HostReturned.
    if (type === 'HostOnline' && prev?.state === 'expired') return;
    const state: HostState = type === 'HostOnline' ? 'online' : 'offline';
    this.hosts.set(host, { ...prev, state, lastSeenMs: atMs, sinceMs: prev?.state === state ? prev.sinceMs : atMs });
  }

  /** Records HostExpired for each online host silent past the expiration; returns how many. */
  async expireSilent(): Promise<number> {
    if (this.expiring) return 0;
    this.expiring = true;
    let expired = 0;
    try {
      const now = this.now();
      for (const [host, e] of [...this.hosts]) {
        if (e.state !== 'online' || now - e.lastSeenMs <= this.opts.expirationMs) continue;
        try {
          const lastSeen = new Date(e.lastSeenMs).toISOString();
          await this.append(newEventFor(HostExpired, { host, lastSeen, silentMs: now - e.lastSeenMs }, { host: this.opts.host }));
          const current = this.hosts.get(host);
          // A heartbeat during the append wins: the host is not silent any more.
          if (current && current.state === 'online' && current.lastSeenMs === e.lastSeenMs) this.hosts.set(host, { ...current, state: 'expired', sinceMs: now });
          expired++;
        } catch (err) {
          this.log.error({ err, host }, 'could not record HostExpired; will retry');
        }
      }
    } finally {
      this.expiring = false;
    }
    return expired;
  }

  /** How many hosts are in each state (for /metrics). */
  counts(): Map<HostState, number> {
    const out = new Map<HostState, number>();
    for (const h of this.hosts.values()) out.set(h.state, (out.get(h.state) ?? 0) + 1);
    return out;
  }

  list(): CommandResultOf<typeof HostsList> {
    const hosts: HostSummary[] = [...this.hosts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([host, e]) => ({
        host,
        state: e.state,
        lastSeen: new Date(e.lastSeenMs).toISOString(),
        since: new Date(e.sinceMs).toISOString(),
        ...(e.version === undefined ? {} : { version: e.version }),
        ...(e.services === undefined ? {} : { services: e.services }),
      }));
    return { hosts };
  }

  private async append(event: EventEnvelope): Promise<void> {
    await this.sink.appendToStream(event.stream, [event]);
  }
}

/**
 * Feeds HostOnline / HostOffline relayed on the bus (`<root>.evt.host.*.*`) to `liveness`: a plain
 * subscription, not a durable consumer, because every registry replica keeps its own view and a
 * missed HostOnline is made up for by the next heartbeat. Returns the unsubscribe function.
 */
/** The host event types that say where a host stands. */
export const HOST_EVENT_TYPES = ['HostOnline', 'HostOffline', 'HostExpired', 'HostReturned'] as const;

/** The last host event of each host in the log (types filtered by the store: host events are few). */
export async function lastHostEvents(store: { readAll(after: string, limit: number, opts?: { types?: readonly string[] }): Promise<{ events: readonly RecordedEvent[] }> }, start: string): Promise<Map<string, { type: string; atMs: number; lastSeenMs?: number }>> {
  const last = new Map<string, { type: string; atMs: number; lastSeenMs?: number }>();
  let after = start;
  for (;;) {
    const { events } = await store.readAll(after, 1000, { types: HOST_EVENT_TYPES });
    if (events.length === 0) return last;
    for (const e of events) {
      after = e.checkpoint;
      const host = (e.data as { host?: unknown }).host;
      if (typeof host !== 'string') continue;
      const lastSeen = (e.data as { lastSeen?: unknown }).lastSeen;
      last.set(host, { type: e.type, atMs: Date.parse(e.occurredAt), ...(typeof lastSeen === 'string' ? { lastSeenMs: Date.parse(lastSeen) } : {}) });
    }
  }
}

export function watchHostEvents(nc: NatsConnection, subjects: Subjects, liveness: HostLiveness, logger: Logger): () => void {
  let refused = false;
  const sub = nc.subscribe(subjects.eventFilter({ area: 'host' }), {
    callback: (err, msg) => {
      if (err) {
        // A server whose permissions do not let this identity hear host events (an older
        // nats-config) must not stop the registry: hosts then go offline only by expiry.
        if (!refused) logger.warn({ err: err.message }, 'cannot hear host events on the bus: a host that stops cleanly will show as expired, not offline');
        refused = true;
        return;
      }
      try {
        const e = JSON.parse(new TextDecoder().decode(msg.data)) as { type?: unknown; occurredAt?: unknown; data?: { host?: unknown } };
        const at = typeof e.occurredAt === 'string' ? Date.parse(e.occurredAt) : Number.NaN;
        if (typeof e.type === 'string' && typeof e.data?.host === 'string' && !Number.isNaN(at)) liveness.observe(e.type, e.data.host, at);
      } catch (e) {
        logger.debug({ err: e, subject: msg.subject }, 'unreadable host event ignored');
      }
    },
  });
  return () => sub.unsubscribe();
}
