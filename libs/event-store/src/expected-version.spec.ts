import { describe, expect, it } from 'vitest';
import { describeExpectedVersion, encodeExpectedVersion, expectedVersionMatches } from './expected-version';
import { WrongExpectedVersionError } from './errors';
import type { ExpectedVersion } from './types';

describe('expected versions', () => {
  it('encodes the four forms for the database function', () => {
    expect(encodeExpectedVersion('any')).toBe('any');
    expect(encodeExpectedVersion('no_stream')).toBe('no_stream');
    expect(encodeExpectedVersion('stream_exists')).toBe('stream_exists');
    expect(encodeExpectedVersion(0)).toBe('0');
    expect(encodeExpectedVersion(42)).toBe('42');
  });

  it('refuses versions that are not non-negative integers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) expect(() => encodeExpectedVersion(bad)).toThrow(RangeError);
    expect(() => encodeExpectedVersion('latest' as unknown as ExpectedVersion)).toThrow(/unknown expectedVersion/);
  });

  it('matches like the database function', () => {
    expect(expectedVersionMatches('any', 0)).toBe(true);
    expect(expectedVersionMatches('any', 7)).toBe(true);
    expect(expectedVersionMatches('no_stream', 0)).toBe(true);
    expect(expectedVersionMatches('no_stream', 1)).toBe(false);
    expect(expectedVersionMatches('stream_exists', 0)).toBe(false);
    expect(expectedVersionMatches('stream_exists', 1)).toBe(true);
    expect(expectedVersionMatches(3, 3)).toBe(true);
    expect(expectedVersionMatches(3, 4)).toBe(false);
  });

  it('explains a conflict with the stream, the expectation and the actual version', () => {
    expect(describeExpectedVersion('no_stream')).toBe('no stream (version 0)');
    const err = new WrongExpectedVersionError('host-a', 3, 5);
    expect(err).toMatchObject({ name: 'WrongExpectedVersionError', stream: 'host-a', expected: 3, actual: 5 });
    expect(err.message).toBe('wrong expected version for stream "host-a": expected version 3, but the stream is at version 5');
  });
});
