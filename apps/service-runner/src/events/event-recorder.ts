// Builds the runner's events (host id + service in every one, metadata.host set) and hands them to
// the spool. Recording is synchronous and durable: when record() returns the event is on disk.
import { newEvent, newEventFor, type EventData, type EventDefinition, type EventEnvelope } from '@fleetvisor/contracts';
import type { EventSpool, SpoolFlusher } from './event-spool';

export class EventRecorder {
  private flusher: SpoolFlusher | undefined;
  /** Observers (tests, the local status view); called after the event is durable. */
  private readonly listeners = new Set<(e: EventEnvelope) => void>();

  constructor(
    private readonly spool: EventSpool,
    readonly host: string,
    private readonly actor = 'service-runner',
  ) {}

  attach(flusher: SpoolFlusher): void {
    this.flusher = flusher;
  }

  onRecorded(fn: (e: EventEnvelope) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** opts.actor: the operator a command came from, instead of the runner itself. */
  record<D extends EventDefinition>(def: D, data: EventData<D>, opts: { correlationId?: string; causationId?: string; actor?: string } = {}): EventEnvelope {
    return this.write(newEventFor(def, data, this.metadata(opts)));
  }

  /** For event types that do not derive their stream from their data (HostOnline, HostOffline: host-<host>). */
  recordIn<D extends EventDefinition>(def: D, streamId: string, data: EventData<D>): EventEnvelope {
    return this.write(newEvent(def, streamId, data, this.metadata({})));
  }

  private metadata(opts: { correlationId?: string; causationId?: string; actor?: string }) {
    return {
      host: this.host,
      actor: opts.actor ?? this.actor,
      ...(opts.correlationId ? { correlationId: opts.correlationId } : {}),
      ...(opts.causationId ? { causationId: opts.causationId } : {}),
    };
  }

  private write(event: EventEnvelope): EventEnvelope {
    this.spool.write(event);
    for (const l of this.listeners) l(event);
    this.flusher?.kick();
    return event;
  }
}
