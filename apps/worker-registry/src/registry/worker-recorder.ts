// WorkerRecorder: how anything the registry decides about a worker reaches the log. The decision
// runs on the worker's state in memory and its events are appended at the stream version that
// state folds (handleCommand with a known state): if the stream moved meanwhile (another writer, a
// state loaded behind the log), the append is refused, the stream is read and the decision made
// again. The state the events fold into is kept in LiveWorkers once they are durable. Appends of
// workers deciding at the same moment share a transaction (the event store's group commit).
import type { EventEnvelope } from '@fleetvisor/contracts';
import { handleCommand, type CommandHandlerResult, type CommandHandlerStore, type Decision } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';
import { cloneAggregate, evolveWorker, type WorkerAggregate } from '../domain/worker-state';
import { workerStream, type LiveWorkers } from './live-workers';

export type WorkerState = WorkerAggregate | undefined;
export type WorkerDecision = Decision<WorkerState>;
export type WorkerDecide = (state: WorkerState) => WorkerDecision;

const initialState = (): WorkerState => undefined;

/** `events` with the state they fold into from `agg`, folded on a copy (`agg` may be the live one). */
export function decided(agg: WorkerState, events: EventEnvelope[]): WorkerDecision {
  if (events.length === 0) return events;
  let next = agg ? cloneAggregate(agg) : undefined;
  for (const e of events) next = evolveWorker(next, e);
  return { events, state: next };
}

export class WorkerRecorder {
  /** Appends that wrote events, since the registry started (for its stats line). */
  appends = 0;
  /** Appends refused because the worker's stream had moved (each decided again on the log). */
  conflicts = 0;
  private readonly log: Logger;

  constructor(
    private readonly store: CommandHandlerStore,
    private readonly live: LiveWorkers,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'worker-recorder' });
  }

  /**
   * Decides on the worker's state and appends what `decide` returns (call it inside the worker's
   * queue). `decide` may run again on the state read from the log after a conflict; it must
   * not change the state it is given (return the new one: `decided`).
   */
  async record(name: string, decide: WorkerDecide, nowMs: number): Promise<CommandHandlerResult<WorkerState>> {
    const before = this.live.get(name);
    const stream = workerStream(name);
    const result = await handleCommand(this.store, stream, decide, {
      evolve: evolveWorker,
      initialState,
      // A worker not in memory is taken as a new stream; one that has events (removed, then back)
      // costs a conflict and a read.
      known: { state: before?.agg, version: before?.version ?? 0 },
      onConflict: (e) => {
        this.conflicts++;
        this.log.info({ worker: name, expected: e.expected, actual: e.actual }, 'worker stream moved since its state was taken: deciding again on the log');
      },
    });
    if (result.appended > 0) this.appends++;
    if (result.reread) this.log.info({ worker: name, offered: result.events.length, appended: result.appended }, 'events already recorded; worker state re-read from the log');
    if (result.state === before?.agg && result.version === (before?.version ?? 0)) return result;
    const prev = this.live.get(name);
    if (result.state) this.live.set(name, result.state, result.version, prev?.lastSeenMs ?? nowMs, prev?.reported);
    else if (prev) this.live.delete(name);
    return result;
  }
}
