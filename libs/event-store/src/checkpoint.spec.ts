import { describe, expect, it } from 'vitest';
import { compareCheckpoints, formatCheckpoint, InvalidCheckpointError, isCheckpoint, maxCheckpoint, parseCheckpoint } from './checkpoint';
import { START_CHECKPOINT } from './types';

describe('checkpoints', () => {
  it('parses and formats <transaction_id>:<global_position>', () => {
    expect(parseCheckpoint('812:4051')).toEqual({ transactionId: 812n, globalPosition: 4051n });
    expect(parseCheckpoint(START_CHECKPOINT)).toEqual({ transactionId: 0n, globalPosition: 0n });
    expect(formatCheckpoint('812', '4051')).toBe('812:4051');
    expect(formatCheckpoint(18446744073709551615n, 9223372036854775807n)).toBe('18446744073709551615:9223372036854775807');
  });

  it('rejects malformed checkpoints with a clear error', () => {
    for (const bad of ['', '12', '12:', ':12', '-1:3', '1:2:3', '1.5:2', 'a:b', ' 1:2', '18446744073709551616:1', '1:9223372036854775808']) {
      expect(isCheckpoint(bad), bad).toBe(false);
      expect(() => parseCheckpoint(bad), bad).toThrow(InvalidCheckpointError);
    }
    expect(() => parseCheckpoint('x')).toThrow(/expected <transaction_id>:<global_position>/);
  });

  it('orders by transaction id first, then global position (not by position alone)', () => {
    // A later transaction can commit a smaller position; the transaction id decides.
    expect(compareCheckpoints('100:50', '101:7')).toBeLessThan(0);
    expect(compareCheckpoints('101:7', '100:50')).toBeGreaterThan(0);
    expect(compareCheckpoints('100:7', '100:50')).toBeLessThan(0);
    expect(compareCheckpoints('100:50', '100:50')).toBe(0);
    // Numeric, not lexicographic.
    expect(compareCheckpoints('9:1', '10:1')).toBeLessThan(0);
    expect(compareCheckpoints('18446744073709551615:1', '18446744073709551614:9')).toBeGreaterThan(0);
    expect(maxCheckpoint('9:5', '10:1')).toBe('10:1');
    expect(maxCheckpoint(START_CHECKPOINT, '1:1')).toBe('1:1');
  });
});
