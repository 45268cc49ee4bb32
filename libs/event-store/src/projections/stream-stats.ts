// The pure fold behind StreamStatsProjection: one batch of events -> per-type counts and per-stream
// heads, so the projection writes one upsert per table per batch.
import type { RecordedEvent } from '@fleetvisor/contracts';

export interface TypeCount {
  type: string;
  count: number;
  /** Global position of the last event of this type in the batch (in checkpoint order). */
  lastGlobalPosition: string;
}

export interface StreamHead {
  streamId: string;
  events: number;
  lastVersion: number;
  lastGlobalPosition: string;
  lastType: string;
  lastOccurredAt: string;
}

export interface StreamStatsDelta {
  types: TypeCount[];
  streams: StreamHead[];
}

export function foldStreamStats(events: readonly RecordedEvent[]): StreamStatsDelta {
  const types = new Map<string, TypeCount>();
  const streams = new Map<string, StreamHead>();
  for (const e of events) {
    const t = types.get(e.type);
    if (t) {
      t.count++;
      t.lastGlobalPosition = e.globalPosition;
    } else {
      types.set(e.type, { type: e.type, count: 1, lastGlobalPosition: e.globalPosition });
    }
    const s = streams.get(e.stream);
    if (!s) {
      streams.set(e.stream, { streamId: e.stream, events: 1, lastVersion: e.streamVersion, lastGlobalPosition: e.globalPosition, lastType: e.type, lastOccurredAt: e.occurredAt });
    } else {
      s.events++;
      if (e.streamVersion > s.lastVersion) {
        s.lastVersion = e.streamVersion;
        s.lastGlobalPosition = e.globalPosition;
        s.lastType = e.type;
        s.lastOccurredAt = e.occurredAt;
      }
    }
  }
  return { types: [...types.values()], streams: [...streams.values()] };
}
