// ForeignEvents: events other writers append to worker-* streams (`fleetvisor events append
// --stream worker-w1 …`, a script, a second tool) reach the live state. The projection runner
// follows the whole log; after each batch the worker events it holds are offered here. An event the
// registry wrote itself is already folded in memory (its version is at or below the worker's
// version there) and costs one comparison; an event beyond it is folded in the worker's queue, so
// it never interleaves with a report or a pause of the same worker. When the events offered do not
// follow the version in memory (a batch the runner read before the registry's own append was kept),
// the worker is read again from its stream: the log decides.
import type { RecordedEvent } from '@fleetvisor/contracts';
import type { Projection, ProjectionTx, PostgresEventStore } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';
import { cloneAggregate, evolveWorker, WORKER_EVENT_TYPES, workerOfStream, type WorkerAggregate } from '../domain/worker-state';
import { workerStream, type LiveWorkers } from './live-workers';

const WORKER_TYPES: ReadonlySet<string> = new Set(WORKER_EVENT_TYPES);

export class ForeignEvents {
  /** Foreign events folded into memory since the registry started (for tests and logs). */
  folded = 0;
  /** Off until the registry has loaded its workers (a catch-up before that has no memory to fold into). */
  active = false;
  private readonly log: Logger;

  constructor(
    private readonly live: LiveWorkers,
    private readonly store: Pick<PostgresEventStore, 'readStream'>,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'foreign-events' });
  }

  /** The projection, offering each batch it applied here. */
  following(projection: Projection): Projection {
    return {
      name: projection.name,
      handles: projection.handles,
      ...(projection.init ? { init: (tx: ProjectionTx) => projection.init!(tx) } : {}),
      reset: (tx) => projection.reset(tx),
      applyBatch: async (batch, tx) => {
        await projection.applyBatch(batch, tx);
        this.offer(batch);
      },
    };
  }

  /** Queues the fold of every worker whose events in `batch` go past its version in memory. */
  offer(batch: readonly RecordedEvent[]): void {
    if (!this.active) return;
    let byWorker: Map<string, RecordedEvent[]> | undefined;
    for (const e of batch) {
      if (!WORKER_TYPES.has(e.type) || !e.stream.startsWith(workerStream(''))) continue;
      const name = workerOfStream(e.stream);
      if (e.streamVersion <= (this.live.get(name)?.version ?? 0)) continue;
      byWorker ??= new Map();
      const list = byWorker.get(name);
      if (list) list.push(e);
      else byWorker.set(name, [e]);
    }
    if (!byWorker) return;
    for (const [name, events] of byWorker) {
      // Not awaited: the runner's transaction does not wait on a worker's queue.
      void this.live.queue.run(name, () => this.fold(name, events)).catch((err: unknown) => this.log.error({ worker: name, err }, 'could not fold events of another writer into the live state'));
    }
  }

  private async fold(name: string, events: readonly RecordedEvent[]): Promise<void> {
    const prev = this.live.get(name);
    const version = prev?.version ?? 0;
    const fresh = events.filter((e) => e.streamVersion > version);
    if (fresh.length === 0) return;
    let agg: WorkerAggregate | undefined;
    let at: number;
    if (fresh.every((e, i) => e.streamVersion === version + 1 + i)) {
      agg = prev ? cloneAggregate(prev.agg) : undefined;
      for (const e of fresh) agg = evolveWorker(agg, e);
      at = fresh[fresh.length - 1]!.streamVersion;
    } else {
      const read = await this.store.readStream(workerStream(name));
      agg = undefined;
      for (const e of read.events) agg = evolveWorker(agg, e);
      at = read.currentVersion;
    }
    this.folded += fresh.length;
    this.log.info({ worker: name, events: fresh.map((e) => e.type), version: at }, 'events of another writer folded into the live state');
    if (agg) this.live.set(name, agg, at, prev?.lastSeenMs ?? Date.parse(agg.worker.lastSeen), prev?.reported);
    else if (prev) this.live.delete(name);
  }
}
