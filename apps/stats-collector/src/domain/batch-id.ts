// The event id of a batch, derived from what identifies it (source, window, part), so the same
// batch pushed twice (a reply lost and the source retried, a proxy's spool replayed) is appended
// once: the log drops an id it has stored (deterministicEventId, at the window's start).
import { deterministicEventId } from '@fleetvisor/contracts';

export function batchEventId(b: { source: string; windowStart: string; windowSeconds: number; part: number }): string {
  const start = Date.parse(b.windowStart);
  return deterministicEventId(start, `ApiCallsRecorded\u0000${b.source}\u0000${new Date(start).toISOString()}\u0000${b.windowSeconds}\u0000${b.part}`);
}
