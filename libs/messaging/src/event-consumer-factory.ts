// The event consumers of one process: bound to its NATS connection, subjects and event stream,
// and stopped together when the process closes its bus.
import type { NatsConnection } from 'nats';
import type { Subjects } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { EventConsumer, type EventConsumerOptions } from './event-consumer';

/** Event consumers bound to this process's connection and stream; stopped with the core. */
export class EventConsumerFactory {
  private readonly consumers = new Set<EventConsumer>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly streamName: string,
    private readonly logger: Logger,
  ) {}

  /** A consumer (not started: call start()). */
  create(opts: Omit<EventConsumerOptions, 'nc' | 'subjects' | 'streamName' | 'logger'> & { logger?: Logger }): EventConsumer {
    const consumer = new EventConsumer({
      ...opts,
      nc: this.nc,
      subjects: this.subjects,
      streamName: this.streamName,
      logger: opts.logger ?? this.logger,
    });
    this.consumers.add(consumer);
    return consumer;
  }

  /** The durable names of the consumers this process runs (for /metrics). */
  names(): string[] {
    return [...this.consumers].map((c) => c.name);
  }

  async stopAll(): Promise<void> {
    const all = [...this.consumers];
    this.consumers.clear();
    await Promise.allSettled(all.map((c) => c.stop()));
  }
}
