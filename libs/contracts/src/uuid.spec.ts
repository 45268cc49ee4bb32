import { describe, expect, it } from 'vitest';
import { UUID_PATTERN, uuidv7 } from './uuid';

const UUID = new RegExp(UUID_PATTERN);
const msOf = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('uuidv7', () => {
  it('is a version 7, RFC 9562 variant UUID in lowercase', () => {
    for (let i = 0; i < 100; i++) {
      const id = uuidv7();
      expect(id).toMatch(UUID);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('carries its millisecond timestamp in the first 48 bits', () => {
    const now = Date.UTC(2031, 0, 1);
    expect(msOf(uuidv7(now))).toBe(now);
  });

  it('is strictly increasing within the same millisecond', () => {
    const now = Date.UTC(2032, 0, 1);
    const ids = Array.from({ length: 1000 }, () => uuidv7(now));
    expect(ids.findIndex((id, i) => i > 0 && id <= ids[i - 1]!)).toBe(-1);
    expect(new Set(ids).size).toBe(ids.length);
    expect(msOf(ids[0]!)).toBe(now);
  });

  it('stays increasing past the 12-bit counter (borrows the next millisecond)', () => {
    const now = Date.UTC(2033, 0, 1);
    const ids = Array.from({ length: 10_000 }, () => uuidv7(now));
    expect(ids.findIndex((id, i) => i > 0 && id <= ids[i - 1]!)).toBe(-1);
    expect(msOf(ids[ids.length - 1]!)).toBeGreaterThan(now);
  });

  it('stays increasing when the clock steps back, and follows it forward again', () => {
    const t = Date.UTC(2034, 0, 1);
    const a = uuidv7(t);
    const b = uuidv7(t - 5_000);
    const c = uuidv7(t + 1_000);
    expect(b > a).toBe(true);
    expect(c > b).toBe(true);
    expect(msOf(c)).toBe(t + 1_000);
  });
});
