// How the runner learns the protocol version of its chain:
//   - live: VersionChanged of chain-<chainId> from the bus, handed over by the @EventPattern
//     handler of VersionController (a durable consumer named after the host,
//     `service-runner-<host>`, so VersionChanged published while the runner was down is delivered
//     when it comes back).
//   - catch-up: on start (and until it succeeds), the newest VersionChanged of the chain from the
//     event stream (last message per subject, ordered consumer), or, when the stream no longer
//     holds one, from the chain-watcher's `version-event` query (the envelope the log stores). A host
//     holds no database credentials (ADR 0006), so it never reads the log itself. Covers a new
//     host, a consumer that was deleted, and events older than the JetStream retention.
// Every VersionChanged, whichever way it came, goes through accept(): the one place that decides
// whether an event is acted on. Signature verification (ADR 0006 "Signed chain events") belongs
// there, before onVersion; the coordinator ignores versions older (by height) than the one it has.
import { fleetEvents, VersionChanged, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { backoffDelay, Sleeper } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { VersionEventOrigin } from './version-source';

export type VersionListener = (v: ProtocolVersion, source: { height: number; eventId: string }) => void;

/** Where the catch-up reads: the event stream first, then the chain-watcher (both may throw: retried). */
export interface VersionCatchUp {
  fromStream(): Promise<unknown>;
  fromWatcher(): Promise<unknown>;
}

/** Thrown by a source while NATS has not answered yet: retried quietly (the bus says it is unreachable). */
export class BusNotReadyError extends Error {
  constructor() {
    super('NATS has not answered yet');
    this.name = 'BusNotReadyError';
  }
}

/** How a VersionChanged reached the runner. */
export type VersionEventVia = 'bus' | VersionEventOrigin;

interface VersionChangedData {
  chainId: string;
  height: number;
  current: ProtocolVersion;
}

export class VersionFollower {
  private stopped = false;
  private readonly sleeper = new Sleeper();
  private catchUp: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly source: VersionCatchUp,
    private readonly chainId: string,
    private readonly onVersion: VersionListener,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'version-follower', chainId });
  }

  /** Starts the catch-up (in the background, retried while the bus or the chain-watcher is away). */
  start(): void {
    this.catchUp = this.catchUpOnce();
  }

  /**
   * The one entry of every VersionChanged (live from the bus, or read by the catch-up), as the
   * whole envelope: validated against the contract, then — the seam for signature verification —
   * handed to onVersion. Returns whether it was acted on; events of other chains are ignored.
   */
  accept(raw: unknown, via: VersionEventVia): boolean {
    if (this.stopped) return false;
    const parsed = fleetEvents.parse(raw);
    if (!parsed.ok) {
      this.log.warn({ via, reason: parsed.reason }, 'VersionChanged refused: it breaks the contract');
      return false;
    }
    const event: EventEnvelope = parsed.value;
    if (event.type !== VersionChanged.type) return false;
    const d = event.data as VersionChangedData;
    if (d.chainId !== this.chainId) return false;
    // Signature verification of `event` (ADR 0006) goes here, before anything acts on it.
    this.log.info({ height: d.height, current: d.current, eventId: event.id, via }, 'VersionChanged');
    this.onVersion(d.current, { height: d.height, eventId: event.id });
    return true;
  }

  /** The stream, else the chain-watcher, until one answers; hands over the newest VersionChanged. */
  private async catchUpOnce(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        // A stream that cannot be read (JetStream lagging after a restart, a consumer refused) is
        // not the end: the chain-watcher has the log's copy, which is never older than the stream's.
        const fromStream = await this.source.fromStream().catch((e: unknown) => {
          this.log.debug({ err: (e as Error).message }, 'cannot read the event stream; asking the chain-watcher');
          return undefined;
        });
        if (fromStream !== undefined && this.accept(fromStream, 'stream')) return;
        // Not in the stream any more (or what it held was refused): the log's copy, via the chain-watcher.
        const fromWatcher = await this.source.fromWatcher();
        if (fromWatcher !== undefined) this.accept(fromWatcher, 'chain-watcher');
        return;
      } catch (e) {
        const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 15_000 });
        const quiet = e instanceof BusNotReadyError && attempt < 10;
        if (!quiet && (attempt === 1 || attempt % 10 === 0)) this.log.warn({ err: (e as Error).message, retryInMs: delay }, "cannot read the chain's newest VersionChanged yet");
        await this.sleeper.sleep(delay);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.interrupt();
    await this.catchUp;
  }
}
