// Where the agent's thread state comes from: a simulated worker in this process, or a real
// damocles-worker's admin JSON-RPC (bridge). The agent logic only sees this interface.
import type { ThreadInfo } from '@fleetvisor/contracts';
import type { NewTransition } from '../report/transition-outbox';

export interface DrainProgress {
  threads: number;
  paused: number;
  finished: boolean;
}

export interface ThreadSource {
  readonly kind: 'simulated' | 'bridge';
  /**
   * Starts producing transitions; `onTransition` gets each one as the source sees it. A source that
   * learns the worker's state by polling calls `onChange` (at most once per poll) when what a report
   * shows changed since it last looked, so the agent reports it without waiting for the heartbeat.
   */
  start(onTransition: (t: NewTransition) => void, onChange?: () => void): Promise<void>;
  stop(): Promise<void>;
  /** Worker software version. */
  version(): string;
  threads(): Promise<ThreadInfo[]>;
  /** true when the thread was running and is paused now (or will be at its next boundary). */
  pause(index: number): Promise<boolean>;
  /** true when a paused thread was resumed; `state` was checked against its plan by the caller. */
  resume(index: number, state: string | undefined): Promise<boolean>;
  /** Starts (or continues) a drain and returns its progress. */
  drain(): Promise<DrainProgress>;
}

/** A source refused or could not do what was asked. */
export class ThreadSourceError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid_request' | 'unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'ThreadSourceError';
  }
}
