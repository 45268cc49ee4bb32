// UUID v7 ids for bench events, cheap enough not to show in the measurements: randomness is drawn
// in 64 KiB blocks instead of one randomBytes() call per id (the contracts' uuidv7 costs ~5 µs,
// which alone would be a third of a core at 60,000 events/s). Same format: 48-bit Unix ms,
// version 7, 12-bit counter, variant 10, random tail.
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.allocUnsafe(64 * 1024);
let at = POOL.length;
let lastMs = 0;
let seq = 0;

export function fastUuidv7(): string {
  if (at + 8 > POOL.length) {
    randomFillSync(POOL);
    at = 0;
  }
  const now = Date.now();
  if (now === lastMs) seq = (seq + 1) & 0xfff;
  else {
    lastMs = now;
    seq = 0;
  }
  const ms = now.toString(16).padStart(12, '0');
  const rnd = POOL.toString('hex', at, at + 8);
  const variant = (8 + (POOL[at]! & 3)).toString(16);
  at += 8;
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${seq.toString(16).padStart(3, '0')}-${variant}${rnd.slice(0, 3)}-${rnd.slice(4)}`;
}
