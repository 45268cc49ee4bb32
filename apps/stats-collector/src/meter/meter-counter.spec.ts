import { describe, expect, it } from 'vitest';
import { validateApiCallsBatch } from '@fleetvisor/contracts';
import { MeterCounter, OVERFLOW_METHOD } from './meter-counter';

const T = Date.parse('2026-12-07T10:00:00.000Z');

describe('MeterCounter', () => {
  it('counts per window, caller and method, and hands out ended windows oldest first', () => {
    const c = new MeterCounter({ source: 'meter-1', component: 'venus', windowSeconds: 10 });
    c.record('a', 'Filecoin.ChainHead', 'ok', 3, T + 1_000);
    c.record('a', 'Filecoin.ChainHead', 'error', 30, T + 2_000);
    c.record('b', 'Filecoin.ChainHead', 'transport', 5_000, T + 9_999);
    c.record('a', 'Filecoin.ChainHead', 'ok', 1, T + 10_000);
    c.close(T + 9_999);
    expect(c.peek()).toBeUndefined();
    c.close(T + 10_000);
    const first = c.peek()!;
    expect(first).toMatchObject({ source: 'meter-1', windowStart: '2026-12-07T10:00:00.000Z', windowSeconds: 10, part: 0 });
    expect(first.records.map((r) => [r.caller, r.calls, r.errors, r.transportErrors])).toEqual([
      ['a', 2, 1, undefined],
      ['b', 1, 0, 1],
    ]);
    expect(first.records[0]!.latency![2]).toBe(1); // 3 ms: <= 5 ms
    expect(first.records[0]!.latency![5]).toBe(1); // 30 ms: <= 50 ms
    expect(validateApiCallsBatch(first)).toBeUndefined();
    c.sent();
    expect(c.peek()).toBeUndefined();
    c.close(T + 20_000);
    expect(c.peek()!.windowStart).toBe('2026-12-07T10:00:10.000Z');
    expect(c.counted).toBe(4);
  });

  it('splits a window of more than 1,000 keys into parts, and bounds keys per window', () => {
    const c = new MeterCounter({ source: 'm', component: 'venus', windowSeconds: 10, maxKeysPerWindow: 1_500 });
    for (let i = 0; i < 1_600; i++) c.record(`caller-${i}`, 'M', 'ok', 1, T);
    c.close(T + 10_000);
    const parts: number[] = [];
    let total = 0;
    for (let b = c.peek(); b; b = c.peek()) {
      parts.push(b.records.length);
      for (const r of b.records) total += r.calls;
      expect(validateApiCallsBatch(b)).toBeUndefined();
      c.sent();
    }
    expect(parts).toEqual([1_000, 600]);
    expect(total).toBe(1_600);
  });

  it('counts further keys past the bound under "overflow" per caller', () => {
    const c = new MeterCounter({ source: 'm', component: 'venus', windowSeconds: 10, maxKeysPerWindow: 2 });
    c.record('a', 'M1', 'ok', 1, T);
    c.record('a', 'M2', 'ok', 1, T);
    c.record('a', 'M3', 'ok', 1, T);
    c.record('a', 'M4', 'ok', 1, T);
    c.close(T + 10_000);
    expect(c.peek()!.records.map((r) => [r.method, r.calls])).toEqual([
      ['M1', 1],
      ['M2', 1],
      [OVERFLOW_METHOD, 2],
    ]);
  });

  it('keeps at most maxPendingWindows unsent batches, dropping (and counting) the oldest', () => {
    const c = new MeterCounter({ source: 'm', component: 'venus', windowSeconds: 10, maxPendingWindows: 3 });
    for (let w = 0; w < 5; w++) c.record('a', 'M', 'ok', 1, T + w * 10_000);
    c.close(T + 60_000);
    expect(c.pendingBatches).toBe(3);
    expect(c.droppedCalls).toBe(2);
    expect(c.peek()!.windowStart).toBe('2026-12-07T10:00:20.000Z');
  });

  it('refuses a window that does not divide a minute', () => {
    expect(() => new MeterCounter({ source: 'm', component: 'c', windowSeconds: 7 })).toThrow(/divide 60/);
  });
});
