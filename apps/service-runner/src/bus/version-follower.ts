// How the runner learns the protocol version of its chain:
//   - live: a durable JetStream consumer named after the host (`service-runner-<host>`), filtered
//     to fleet.evt.chain.<chainId>.VersionChanged. Durable, so VersionChanged published while the
//     runner was down is delivered when it comes back.
//   - catch-up: on start (and until it succeeds), the last VersionChanged of stream
//     chain-<chainId> read from the log — covers a new host, a consumer that was deleted, and
//     events older than the JetStream retention.
// Either source feeds onVersion; the coordinator ignores versions older (by height) than the one it has.
import { VersionChanged, streamName, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { backoffDelay, EventConsumer, Sleeper } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { RunnerLinks } from './runner-links';

export type VersionListener = (v: ProtocolVersion, source: { height: number; eventId: string }) => void;

export function durableNameFor(host: string): string {
  return `service-runner-${host.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 200);
}

interface VersionChangedData {
  chainId: string;
  height: number;
  current: ProtocolVersion;
}

export class VersionFollower {
  private consumer: EventConsumer | undefined;
  private stopped = false;
  private readonly sleeper = new Sleeper();
  private catchUp: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    private readonly links: RunnerLinks,
    private readonly chainId: string,
    private readonly onVersion: VersionListener,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'version-follower', chainId });
  }

  start(): void {
    this.catchUp = this.catchUpFromLog();
    this.links.onNats(async (nc) => {
      if (this.stopped) return;
      this.consumer = new EventConsumer({
        nc,
        subjects: this.links.subjects,
        streamName: this.links.config.eventStreamName,
        name: durableNameFor(this.links.config.host),
        filter: this.links.subjects.eventFilter({ area: 'chain', streamId: this.chainId, type: VersionChanged.type }),
        logger: this.log,
        handler: async (event) => this.handle(event),
      });
      await this.consumer.start();
    });
  }

  private handle(event: EventEnvelope): void {
    if (event.type !== VersionChanged.type) return;
    const d = event.data as VersionChangedData;
    if (d.chainId !== this.chainId) return;
    this.log.info({ height: d.height, current: d.current }, 'VersionChanged');
    this.onVersion(d.current, { height: d.height, eventId: event.id });
  }

  /** Reads chain-<id> from the log until it succeeds once; hands over the newest VersionChanged. */
  private async catchUpFromLog(): Promise<void> {
    const stream = streamName('chain', this.chainId);
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        let from = 1;
        let latest: EventEnvelope | undefined;
        for (;;) {
          const { events } = await this.links.store.readStream(stream, { fromVersion: from, maxCount: 500 });
          for (const e of events) if (e.type === VersionChanged.type) latest = e; // validated by the store on read
          if (events.length < 500) break;
          from = events[events.length - 1]!.streamVersion + 1;
        }
        if (latest) this.handle(latest);
        return;
      } catch (e) {
        const delay = backoffDelay(attempt, { initialMs: 500, maxMs: 15_000 });
        if (attempt === 1 || attempt % 10 === 0) this.log.warn({ err: (e as Error).message, retryInMs: delay }, 'cannot read the chain stream from the log yet');
        await this.sleeper.sleep(delay);
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.interrupt();
    await this.catchUp;
    await this.consumer?.stop();
  }
}
