// The public shape of the event log. Implementations: PostgresEventStore (the system of record).
import type { EventEnvelope, RecordedEvent } from '@fleetvisor/contracts';

export type ExpectedVersion = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendOptions {
  /** Default 'any'. A number is the exact stream version (count of events) expected before the append. */
  expectedVersion?: ExpectedVersion;
}

export interface AppendResult {
  /** Stream version after the append (unchanged when every event was already stored). */
  nextExpectedVersion: number;
  /** How many of the given events were new (the rest were already stored: idempotent no-op). */
  appended: number;
  /**
   * Checkpoint of the last event written (absent when nothing was written). Readers that reach it
   * have seen this append: read-your-writes for projections and tests.
   */
  checkpoint?: string;
}

/** The start of the global order: read everything. */
export const START_CHECKPOINT = '0:0';

export interface ReadAllResult {
  events: RecordedEvent[];
  /** Pass back as `after` to continue; equals the input when nothing was read. */
  checkpoint: string;
}

export interface ReadStreamResult {
  events: RecordedEvent[];
  /** Current version of the stream (0 when it does not exist). */
  currentVersion: number;
}

export interface EventStore {
  appendToStream(stream: string, events: readonly EventEnvelope[], opts?: AppendOptions): Promise<AppendResult>;
  /** Events of one stream with streamVersion >= fromVersion (default 1), in order. */
  readStream(stream: string, opts?: { fromVersion?: number; maxCount?: number }): Promise<ReadStreamResult>;
  /**
   * Events of all streams after a checkpoint, in gap-free global order: a reader never skips an event
   * that commits later with a smaller position (only events below the oldest running transaction
   * are returned). Optional filter by type.
   */
  readAll(after: string, limit: number, opts?: { types?: readonly string[] }): Promise<ReadAllResult>;
  /** Checkpoint of the end of the log as visible now (for "start from end"). */
  headCheckpoint(): Promise<string>;
}

/** Named positions in the global order (relay, projections, subscribers). */
export interface CheckpointStore {
  /** Last stored checkpoint for `name`, or START_CHECKPOINT when there is none. */
  load(name: string): Promise<string>;
  save(name: string, checkpoint: string): Promise<void>;
}

/**
 * Leadership over a named role (the relay, a chain's watcher) across processes. Implemented with a
 * Postgres session advisory lock held on a dedicated connection: when the holder dies, its
 * connection closes and the lock is free.
 */
export interface LeaderLock {
  /** Tries once; true when this process now holds the role. */
  tryAcquire(): Promise<boolean>;
  /** True while the lock connection is alive and the role held. */
  readonly held: boolean;
  release(): Promise<void>;
  /** Called when a held lock is lost (connection dropped). */
  onLost(listener: () => void): void;
}
