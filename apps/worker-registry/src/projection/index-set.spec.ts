import { describe, expect, it } from 'vitest';
import { IndexSet } from './index-set';

describe('IndexSet', () => {
  it('holds indexes below and past the 31-bit mask, added and deleted', () => {
    const s = IndexSet.of([0, 5, 30, 31, 40, 65_535]);
    expect(s.toArray()).toEqual([0, 5, 30, 31, 40, 65_535]);
    expect(s.size).toBe(6);
    expect([s.has(30), s.has(31), s.has(29), s.has(41)]).toEqual([true, true, false, false]);
    s.delete(30);
    s.delete(40);
    s.delete(7);
    expect(s.toArray()).toEqual([0, 5, 31, 65_535]);
    expect(s.size).toBe(4);
  });

  it('reads the mask and the other indexes the projection loads', () => {
    const s = IndexSet.fromMask((1 << 30) | (1 << 3) | 1, [44]);
    expect(s.toArray()).toEqual([0, 3, 30, 44]);
    expect(IndexSet.fromMask(0, null).size).toBe(0);
  });
});
