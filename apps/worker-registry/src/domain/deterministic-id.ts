// Event ids derived from what caused the event, so the same report handled twice (a reply lost, the
// agent re-sends its transitions) produces the same ids and the log's id idempotency drops the
// copies. Format: UUID version 8 (RFC 9562 "custom"): 48 bits of the event time in ms, so ids
// still sort by time like the uuid v7 ids of other events, then 74 bits of SHA-256 of the key.
import { hash as oneShotHash } from 'node:crypto';

export function deterministicEventId(timeMs: number, key: string): string {
  // One-shot hash: no Hash object per id (ids are computed for every recorded change).
  const hash = oneShotHash('sha256', key, 'buffer');
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.min(timeMs, 2 ** 48 - 1)), 0, 6);
  hash.copy(bytes, 6, 0, 10);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
