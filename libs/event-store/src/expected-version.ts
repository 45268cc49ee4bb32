// Expected-version rules of appendToStream, shared by the client-side validation and the messages
// of WrongExpectedVersionError. The database function applies the same rules (migration
// AppendFunction); the client only validates and encodes.
import type { ExpectedVersion } from './types';

/** Text form passed to fv_append_to_stream: 'any' | 'no_stream' | 'stream_exists' | '<n>'. */
export function encodeExpectedVersion(expected: ExpectedVersion): string {
  if (typeof expected === 'number') {
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new RangeError(`expectedVersion must be a non-negative integer, 'any', 'no_stream' or 'stream_exists', got ${expected}`);
    }
    return String(expected);
  }
  if (expected === 'any' || expected === 'no_stream' || expected === 'stream_exists') return expected;
  throw new RangeError(`unknown expectedVersion "${String(expected)}"`);
}

/** Same rule as the database function; used by tests and callers deciding before a round trip. */
export function expectedVersionMatches(expected: ExpectedVersion, actual: number): boolean {
  switch (expected) {
    case 'any':
      return true;
    case 'no_stream':
      return actual === 0;
    case 'stream_exists':
      return actual > 0;
    default:
      return actual === expected;
  }
}

export function describeExpectedVersion(expected: ExpectedVersion): string {
  switch (expected) {
    case 'any':
      return 'any version';
    case 'no_stream':
      return 'no stream (version 0)';
    case 'stream_exists':
      return 'an existing stream';
    default:
      return `version ${expected}`;
  }
}
