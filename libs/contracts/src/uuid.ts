// UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Ids sort by creation
// time, which keeps the event_id index append-friendly.
import { hash as oneShotHash, randomBytes } from 'node:crypto';

let lastMs = 0;
let seq = 0;

export function uuidv7(now: number = Date.now()): string {
  const bytes = randomBytes(16);
  // Monotonic within one process: same millisecond -> bump a 12-bit counter in rand_a.
  if (now <= lastMs) {
    seq = (seq + 1) & 0xfff;
    if (seq === 0) lastMs += 1;
    now = lastMs;
  } else {
    lastMs = now;
    seq = bytes.readUInt16BE(6) & 0x7ff;
  }
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | ((seq >> 8) & 0x0f);
  bytes[7] = seq & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';

/**
 * An event id derived from what caused the event, so the same cause handled twice (a report re-sent
 * after a lost reply, a batch pushed again, a command replayed) produces the same id and the log's
 * id idempotency drops the copy. UUID version 8 (RFC 9562 "custom"): 48 bits of `timeMs`, so ids
 * still sort by time like uuid v7 ids, then 74 bits of SHA-256 of `key`.
 */
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
