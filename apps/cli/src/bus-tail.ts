// Follows the event stream on JetStream with an ordered (ephemeral) consumer: nothing durable is
// left behind when the CLI exits. Messages are validated like any subscriber would; an invalid one
// is reported, not printed as an event.
import { DeliverPolicy, type JetStreamClient } from 'nats';
import { fleetEvents, type EventEnvelope } from '@fleetvisor/contracts';

export interface BusTailOptions {
  js: JetStreamClient;
  streamName: string;
  filterSubject: string;
  /** 'new' (default) or 'all' (replay what the stream still holds). */
  from?: 'new' | 'all';
  onEvent(event: EventEnvelope, seq: number): void;
  onInvalid(subject: string, reason: string): void;
}

export interface BusTail {
  stop(): Promise<void>;
}

export async function startBusTail(opts: BusTailOptions): Promise<BusTail> {
  const consumer = await opts.js.consumers.get(opts.streamName, {
    filterSubjects: opts.filterSubject,
    deliver_policy: opts.from === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
  });
  const messages = await consumer.consume();
  const done = (async () => {
    for await (const m of messages) {
      let raw: unknown;
      try {
        raw = m.json();
      } catch {
        opts.onInvalid(m.subject, 'payload is not JSON');
        continue;
      }
      const parsed = fleetEvents.parse(raw);
      if (parsed.ok) opts.onEvent(parsed.value, m.seq);
      else opts.onInvalid(m.subject, parsed.reason);
    }
  })();
  return {
    async stop() {
      await messages.close();
      await done.catch(() => undefined);
    },
  };
}
