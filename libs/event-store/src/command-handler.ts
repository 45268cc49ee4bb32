// handleCommand: the one read -> decide -> append -> retry loop of the log's writers. The state of a
// stream is its events folded with `evolve` from `initialState`; `decide` turns it into new events;
// those are appended with the version that was read as the expected version, so a writer that
// decided on a stale state is refused (WrongExpectedVersionError) instead of recording a decision
// the log contradicts. A refused attempt reads the stream again and decides again, a bounded number
// of times.
//
// A writer that keeps its streams' state in memory (the worker registry) passes it as `known`: the
// first attempt decides on it without a read, and only a conflict goes to the log. The expected
// version still guards it, so a stale cache costs one retry, never a wrong event.
import type { EventEnvelope } from '@fleetvisor/contracts';
import type { AppendResult, EventStore, ExpectedVersion } from './types';
import { WrongExpectedVersionError } from './errors';

/** The part of an event store the handler uses. */
export type CommandHandlerStore = Pick<EventStore, 'readStream' | 'appendToStream'>;

/**
 * What `decide` returns: the new events (none: nothing to record), or the events with the state
 * they fold into when decide has folded them already (it then owns that state; the handler does
 * not fold them again).
 */
export type Decision<S> = readonly EventEnvelope[] | { events: readonly EventEnvelope[]; state: S };

export interface DecisionContext {
  /** Version of the stream the state was folded from (0: no stream). */
  version: number;
  /** 1 on the first attempt. */
  attempt: number;
}

export interface CommandHandlerOptions<S> {
  /**
   * Applies one event. Used on states the handler read from the log, and on the decided state after
   * a successful append when decide returned bare events; it may mutate the state it is given.
   */
  evolve: (state: S, event: EventEnvelope) => S;
  /** The state of a stream without events. */
  initialState: () => S;
  /** State and version the caller already holds: the first attempt decides on them without reading. */
  known?: { state: S; version: number };
  /** Attempts in all (default 4): the first and up to three after conflicts. */
  maxAttempts?: number;
  /** Told of each conflict before the stream is read again. */
  onConflict?: (conflict: WrongExpectedVersionError, attempt: number) => void;
}

export interface CommandHandlerResult<S> {
  /** The stream's state after the events, or the state decided on when there were none. */
  state: S;
  /** The stream's version after the append (or as read, when nothing was appended). */
  version: number;
  /** What decide returned on the attempt that succeeded. */
  events: readonly EventEnvelope[];
  /** How many of those events were new to the log (fewer: some ids were stored already). */
  appended: number;
  attempts: number;
  /**
   * True when the state was folded from the log after the append because some of the events were
   * stored already (a retried command): the log, not the decision, is then the state.
   */
  reread: boolean;
  /** The append's result (undefined when nothing was appended). */
  append?: AppendResult;
}

export const DEFAULT_COMMAND_ATTEMPTS = 4;

/** Every attempt met a stream that had moved since it was read. */
export class CommandConflictError extends Error {
  constructor(
    readonly stream: string,
    readonly attempts: number,
    readonly lastConflict: WrongExpectedVersionError,
  ) {
    super(
      `stream "${stream}" kept changing while a command was decided: ${attempts} attempts, each refused because another writer appended first (last: ${lastConflict.message})`,
    );
    this.name = 'CommandConflictError';
  }
}

function expectedFor(version: number): ExpectedVersion {
  return version === 0 ? 'no_stream' : version;
}

function isWithState<S>(d: Decision<S>): d is { events: readonly EventEnvelope[]; state: S } {
  return !Array.isArray(d);
}

async function readState<S>(store: CommandHandlerStore, stream: string, opts: CommandHandlerOptions<S>): Promise<{ state: S; version: number }> {
  const { events, currentVersion } = await store.readStream(stream);
  let state = opts.initialState();
  for (const e of events) state = opts.evolve(state, e);
  return { state, version: currentVersion };
}

/**
 * Reads `stream` (or starts from `known`), decides, appends at the version read; on a version
 * conflict reads and decides again, up to maxAttempts (then CommandConflictError). Any other append
 * error is thrown as it is.
 */
export async function handleCommand<S>(
  store: CommandHandlerStore,
  stream: string,
  decide: (state: S, context: DecisionContext) => Decision<S> | Promise<Decision<S>>,
  opts: CommandHandlerOptions<S>,
): Promise<CommandHandlerResult<S>> {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_COMMAND_ATTEMPTS;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  let current = opts.known ?? (await readState(store, stream, opts));
  for (let attempt = 1; ; attempt++) {
    const decision = await decide(current.state, { version: current.version, attempt });
    const events = isWithState(decision) ? decision.events : decision;
    if (events.length === 0) {
      return { state: isWithState(decision) ? decision.state : current.state, version: current.version, events, appended: 0, attempts: attempt, reread: false };
    }
    let append: AppendResult;
    try {
      append = await store.appendToStream(stream, events, { expectedVersion: expectedFor(current.version) });
    } catch (e) {
      if (!(e instanceof WrongExpectedVersionError)) throw e;
      if (attempt >= maxAttempts) throw new CommandConflictError(stream, attempt, e);
      opts.onConflict?.(e, attempt);
      current = await readState(store, stream, opts);
      continue;
    }
    if (append.appended !== events.length) {
      // Some ids were stored already (the same command handled before): what the log holds now is
      // the state, not what this attempt decided.
      const after = await readState(store, stream, opts);
      return { state: after.state, version: after.version, events, appended: append.appended, attempts: attempt, reread: true, append };
    }
    let state: S;
    if (isWithState(decision)) state = decision.state;
    else {
      state = current.state;
      for (const e of events) state = opts.evolve(state, e);
    }
    return { state, version: append.nextExpectedVersion, events, appended: append.appended, attempts: attempt, reread: false, append };
  }
}
