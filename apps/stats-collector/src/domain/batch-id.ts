// The event id of a batch, derived from what identifies it (source, window, part), so the same
// batch pushed twice (a reply lost and the source retried, a proxy's spool replayed) is appended
// once: the log drops an id it has stored. Format as the worker-registry's derived ids: UUID
// version 8 (RFC 9562 "custom"), 48 bits of the window's time in ms so ids still sort by time like
// uuid v7 ids, then 74 bits of SHA-256 of the key.
import { hash as oneShotHash } from 'node:crypto';

export function deterministicEventId(timeMs: number, key: string): string {
  const hash = oneShotHash('sha256', key, 'buffer');
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.min(timeMs, 2 ** 48 - 1)), 0, 6);
  hash.copy(bytes, 6, 0, 10);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function batchEventId(b: { source: string; windowStart: string; windowSeconds: number; part: number }): string {
  const start = Date.parse(b.windowStart);
  return deterministicEventId(start, `ApiCallsRecorded\u0000${b.source}\u0000${new Date(start).toISOString()}\u0000${b.windowSeconds}\u0000${b.part}`);
}
