// Typed failures of the event store, so callers can branch on them (retry on a version conflict,
// stop on an unreadable log) instead of matching message text.
import type { ExpectedVersion } from './types';
import { describeExpectedVersion } from './expected-version';

/** The stream was not at the version the caller expected; nothing was written. */
export class WrongExpectedVersionError extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    /** Version of the stream when the append was refused (0 when it does not exist). */
    readonly actual: number,
  ) {
    super(`wrong expected version for stream "${stream}": expected ${describeExpectedVersion(expected)}, but the stream is at version ${actual}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/** An event id given to an append is already stored in another stream; nothing was written. */
export class DuplicateEventIdError extends Error {
  constructor(
    readonly stream: string,
    readonly detail: string,
  ) {
    super(`cannot append to stream "${stream}": ${detail}`);
    this.name = 'DuplicateEventIdError';
  }
}

/**
 * An event stored in the log does not pass the catalog (unknown type, invalid data, failed upcast).
 * Readers stop here rather than skip it: a silently skipped event would break exactly-once state.
 */
export class UnreadableEventError extends Error {
  constructor(
    readonly checkpoint: string,
    readonly globalPosition: string,
    readonly eventId: string,
    readonly stream: string,
    readonly reason: string,
  ) {
    super(`event ${eventId} at global position ${globalPosition} (checkpoint ${checkpoint}, stream "${stream}") cannot be read: ${reason}`);
    this.name = 'UnreadableEventError';
  }
}
