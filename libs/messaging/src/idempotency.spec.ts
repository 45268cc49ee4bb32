import { describe, expect, it } from 'vitest';
import { MemoryIdempotencyGuard, noIdempotencyGuard } from './idempotency';
import { headerValue } from './dead-letter';

describe('MemoryIdempotencyGuard', () => {
  it('remembers handled ids', () => {
    const g = new MemoryIdempotencyGuard();
    expect(g.isDone('a')).toBe(false);
    g.markDone('a');
    expect(g.isDone('a')).toBe(true);
    expect(g.isDone('b')).toBe(false);
  });

  it('evicts the least recently used id beyond its capacity', () => {
    const g = new MemoryIdempotencyGuard(2);
    g.markDone('a');
    g.markDone('b');
    expect(g.isDone('a')).toBe(true); // a is now the most recent
    g.markDone('c'); // evicts b
    expect(g.size).toBe(2);
    expect(g.isDone('b')).toBe(false);
    expect(g.isDone('a')).toBe(true);
    expect(g.isDone('c')).toBe(true);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new MemoryIdempotencyGuard(0)).toThrow();
  });

  it('noIdempotencyGuard remembers nothing', () => {
    noIdempotencyGuard.markDone('a');
    expect(noIdempotencyGuard.isDone('a')).toBe(false);
  });
});

describe('headerValue', () => {
  it('makes one printable line and cuts long text', () => {
    expect(headerValue('a\r\nb\tc\u0000d')).toBe('a b c d');
    expect(headerValue('x'.repeat(50), 10)).toHaveLength(10);
    expect(headerValue('  padded  ')).toBe('padded');
  });
});
