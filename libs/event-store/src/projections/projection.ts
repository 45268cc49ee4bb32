// What a projection is to the runner: a named fold of some event types into tables of its own,
// applied batch by batch inside the transaction that also moves its checkpoint.
import type { ClientBase } from 'pg';
import type { RecordedEvent } from '@fleetvisor/contracts';

/** A pg client inside the runner's open transaction: write state through it, never commit. */
export type ProjectionTx = ClientBase;

/** `handles` value for a projection that folds every event type. */
export const ALL_EVENT_TYPES: readonly string[] = Object.freeze(['*']);

export interface Projection {
  /** Unique and stable: it names the projection's checkpoint. */
  readonly name: string;
  /** Event types folded (filtered in SQL); ALL_EVENT_TYPES (`['*']`) for every type. */
  readonly handles: readonly string[];
  /** Creates its tables when they are missing (projections shipped with migrations need none). */
  init?(tx: ProjectionTx): Promise<void>;
  /** Folds events, in global order, into its state. Prefer one statement per batch, not per event. */
  applyBatch(events: readonly RecordedEvent[], tx: ProjectionTx): Promise<void>;
  /** Drops all of its state (before a rebuild). */
  reset(tx: ProjectionTx): Promise<void>;
}

/** For projections simpler to write one event at a time (slower: one round trip per statement). */
export abstract class EventByEventProjection implements Projection {
  abstract readonly name: string;
  abstract readonly handles: readonly string[];
  abstract apply(event: RecordedEvent, tx: ProjectionTx): Promise<void>;
  abstract reset(tx: ProjectionTx): Promise<void>;

  async applyBatch(events: readonly RecordedEvent[], tx: ProjectionTx): Promise<void> {
    for (const event of events) await this.apply(event, tx);
  }
}

export function handlesAllTypes(projection: Projection): boolean {
  return projection.handles.includes('*');
}

/** Name of a projection's row in fv_checkpoints (kept apart from relay and subscriber names). */
export function projectionCheckpointName(projectionName: string): string {
  return `projection:${projectionName}`;
}
