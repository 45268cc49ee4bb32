// How the runner learns the protocol version of its chain:
//   - live: VersionChanged of chain-<chainId> from the bus, handed to handle() by the
//     @EventPattern handler of RunnerVersionController (a durable consumer named after the host,
//     `service-runner-<host>`, so VersionChanged published while the runner was down is delivered
//     when it comes back).
//   - catch-up: on start (and until it succeeds), the last VersionChanged of stream
//     chain-<chainId> read from the log — covers a new host, a consumer that was deleted, and
//     events older than the JetStream retention.
// Either source goes through the chain event gate (verified before anything acts on it, ADR 0006);
// what passes reaches the coordinator, which ignores versions older (by height) than the one it has.
import { VersionChanged, streamName, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { backoffDelay, Sleeper } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { ChainEventGate } from './chain-event-gate';
import type { RunnerLinks } from './runner-links';

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
    private readonly links: Pick<RunnerLinks, 'store'>,
    private readonly chainId: string,
    private readonly gate: Pick<ChainEventGate, 'accept'>,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'version-follower', chainId });
  }

  /** Starts the catch-up from the log (in the background, retried while the log is away). */
  start(): void {
    this.catchUp = this.catchUpFromLog();
  }

  /** A VersionChanged from the bus or the log; events of other chains are ignored. */
  handle(event: EventEnvelope): void {
    if (this.stopped || event.type !== VersionChanged.type) return;
    const d = event.data as VersionChangedData;
    if (d.chainId !== this.chainId) return;
    this.log.info({ height: d.height, current: d.current }, 'VersionChanged');
    void this.gate.accept(event);
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
  }
}
