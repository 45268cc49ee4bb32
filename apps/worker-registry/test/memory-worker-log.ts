// The worker streams in memory, with the event store's expected-version and idempotency rules: the
// log behind WorkerRecorder and WorkerQueries in the registry's unit tests. `interfere` runs before
// the next append (another writer moving a stream).
import type { EventEnvelope, RecordedEvent } from '@fleetvisor/contracts';
import { expectedVersionMatches, WrongExpectedVersionError, type AppendOptions, type AppendResult, type CommandHandlerStore, type ReadStreamResult } from '@fleetvisor/event-store';

export class MemoryWorkerLog implements CommandHandlerStore {
  private readonly streams = new Map<string, EventEnvelope[]>();
  readonly ids = new Set<string>();
  reads = 0;
  interfere: (() => void)[] = [];

  events(stream: string): EventEnvelope[] {
    return this.streams.get(stream) ?? [];
  }

  async hasEvent(eventId: string): Promise<boolean> {
    return this.ids.has(eventId);
  }

  types(stream: string): string[] {
    return this.events(stream).map((e) => e.type);
  }

  async readStream(stream: string): Promise<ReadStreamResult> {
    this.reads++;
    const events = this.events(stream).map((e, i) => ({ ...e, streamVersion: i + 1, globalPosition: String(i + 1), checkpoint: `1:${i + 1}` }) as RecordedEvent);
    return { events, currentVersion: events.length };
  }

  async appendToStream(stream: string, events: readonly EventEnvelope[], opts: AppendOptions = {}): Promise<AppendResult> {
    this.interfere.shift()?.();
    const list = this.streams.get(stream) ?? [];
    const fresh = events.filter((e) => !this.ids.has(e.id));
    if (fresh.length === 0) return { nextExpectedVersion: list.length, appended: 0 };
    const expected = opts.expectedVersion ?? 'any';
    if (!expectedVersionMatches(expected, list.length)) throw new WrongExpectedVersionError(stream, expected, list.length);
    for (const e of fresh) this.ids.add(e.id);
    list.push(...fresh);
    this.streams.set(stream, list);
    return { nextExpectedVersion: list.length, appended: fresh.length };
  }
}
