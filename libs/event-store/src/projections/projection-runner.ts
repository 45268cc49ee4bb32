// ProjectionRunner: drives one projection along the global order. Each batch is read with readAll
// from the projection's checkpoint and applied in one transaction that also moves the checkpoint,
// so a crash anywhere leaves either both or neither: every event is applied exactly once. The
// checkpoint row is locked and compared first, which also fences off a second runner of the same
// projection (in this process or another). Live mode polls (short interval) and wakes at once on
// in-process appends.
import type { Pool, PoolClient } from 'pg';
import type { RecordedEvent } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { PostgresEventStore } from '../postgres-event-store';
import type { ReadAllResult } from '../types';
import { START_CHECKPOINT } from '../types';
import { compareCheckpoints, parseCheckpoint } from '../checkpoint';
import { handlesAllTypes, projectionCheckpointName, type Projection, type ProjectionTx } from './projection';

/** Where a projection without a stored checkpoint starts: 'beginning', 'end', or a checkpoint. */
export type ProjectionStart = 'beginning' | 'end' | (string & {});

export interface ProjectionRunnerOptions {
  /** Only used when the projection has no checkpoint yet (default 'beginning'). */
  startFrom?: ProjectionStart;
  /** Events per transaction (default 10,000: catch-up cost is mostly per query and per commit). */
  batchSize?: number;
  /** Poll interval when idle, in ms (default 20). */
  pollIntervalMs?: number;
  /** First retry delay after a failed batch, doubled up to maxRetryDelayMs (defaults 100 / 5000). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  logger?: Logger;
}

export interface RebuildProgress {
  processed: number;
  /** Events to replay, counted at the start (grows to `processed` if more arrive meanwhile). */
  total: number;
  eventsPerSec: number;
}

export interface RebuildResult extends RebuildProgress {
  durationMs: number;
  checkpoint: string;
}

/** The stored checkpoint is not where this runner left it: another runner moved it, or a rebuild. */
export class ProjectionCheckpointMovedError extends Error {
  constructor(
    readonly projection: string,
    readonly expected: string,
    readonly actual: string | undefined,
  ) {
    super(`checkpoint of projection "${projection}" moved from ${expected} to ${actual ?? '(none)'}: another runner is active or it was reset`);
    this.name = 'ProjectionCheckpointMovedError';
  }
}

interface StepResult {
  applied: number;
  /** The read returned a full batch: more may be waiting right now. */
  full: boolean;
}

interface CaughtUpWaiter {
  target: string;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Poll interval while an append we were told about is not readable yet. */
const HELD_BACK_POLL_MS = 10;

const SQL = {
  seed: 'INSERT INTO fv_checkpoints (name, checkpoint) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
  load: 'SELECT checkpoint FROM fv_checkpoints WHERE name = $1',
  lock: 'SELECT checkpoint FROM fv_checkpoints WHERE name = $1 FOR UPDATE',
  advance: 'UPDATE fv_checkpoints SET checkpoint = $2, updated_at = now() WHERE name = $1',
  countAll: 'SELECT count(*) AS n FROM fv_events WHERE (transaction_id, global_position) <= ($1::xid8, $2::bigint)',
  countTypes: 'SELECT count(*) AS n FROM fv_events WHERE (transaction_id, global_position) <= ($1::xid8, $2::bigint) AND type = ANY ($3::text[])',
} as const;

export class ProjectionRunner {
  private readonly checkpointName: string;
  private readonly types: readonly string[] | undefined;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly logger: Logger | undefined;

  private position: string | undefined;
  private loopDone: Promise<void> | undefined;
  private stopping = false;
  private wakeRequested = false;
  private wakeUp: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly waiters = new Set<CaughtUpWaiter>();
  /** Furthest checkpoint an in-process append told us about. */
  private noticed: string | undefined;
  private failure: Error | undefined;
  /** catchUp() or rebuild() under way (they own the position; the live loop is stopped). */
  private exclusive: string | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly store: PostgresEventStore,
    readonly projection: Projection,
    private readonly opts: ProjectionRunnerOptions = {},
  ) {
    this.checkpointName = projectionCheckpointName(projection.name);
    this.types = handlesAllTypes(projection) ? undefined : projection.handles;
    this.batchSize = opts.batchSize ?? 10_000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 20;
    this.retryDelayMs = opts.retryDelayMs ?? 100;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 5_000;
    this.logger = opts.logger?.child({ projection: projection.name });
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${this.batchSize}`);
    if (opts.startFrom !== undefined && opts.startFrom !== 'beginning' && opts.startFrom !== 'end') parseCheckpoint(opts.startFrom);
  }

  /** Last checkpoint committed by this runner (undefined before start/catchUp). */
  get checkpoint(): string | undefined {
    return this.position;
  }

  get running(): boolean {
    return this.loopDone !== undefined;
  }

  /** The error of the last failed batch, until a batch succeeds again. */
  get lastError(): Error | undefined {
    return this.failure;
  }

  /** Prepares the projection (init, checkpoint) and follows the log until stop(). */
  async start(): Promise<void> {
    if (this.loopDone) return;
    if (this.exclusive) throw new Error(`projection "${this.projection.name}": cannot start while ${this.exclusive} is under way`);
    await this.prepare();
    this.stopping = false;
    this.unsubscribe = this.store.onAppended((notice) => {
      if (this.noticed === undefined || compareCheckpoints(notice.checkpoint, this.noticed) > 0) this.noticed = notice.checkpoint;
      this.wake();
    });
    this.loopDone = this.loop();
  }

  /** Finishes the batch in flight, then stops following the log. */
  async stop(): Promise<void> {
    if (!this.loopDone) return;
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.wake();
    await this.loopDone;
    this.loopDone = undefined;
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(`projection "${this.projection.name}" runner stopped before catching up with ${w.target}`));
    }
    this.waiters.clear();
  }

  /**
   * Without the live loop: applies every event committed before the call, then returns how many it
   * applied. Events held back by an older open transaction are waited for.
   */
  async catchUp(): Promise<number> {
    if (this.loopDone) throw new Error(`projection "${this.projection.name}" is running; use whenCaughtUp()`);
    return this.alone('catchUp', async () => {
      await this.prepare();
      return this.drainTo(await this.store.lastCommittedCheckpoint());
    });
  }

  /** Resolves once the projection has applied every event committed before this call. */
  async whenCaughtUp(timeoutMs = 30_000): Promise<void> {
    if (!this.loopDone) throw new Error(`projection "${this.projection.name}" is not running: start() it first`);
    const target = await this.store.lastCommittedCheckpoint();
    if (this.position !== undefined && compareCheckpoints(this.position, target) >= 0) return;
    await new Promise<void>((resolve, reject) => {
      const waiter: CaughtUpWaiter = {
        target,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          const why = this.failure ? `; last error: ${this.failure.message}` : '';
          reject(new Error(`projection "${this.projection.name}" did not catch up with ${target} within ${timeoutMs} ms (at ${this.position ?? 'nothing'})${why}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
      this.wake();
    });
  }

  /**
   * Drops the projection's state and replays the log into it, up to the last event committed before
   * the call (waiting for events an older open transaction holds back). Runs in batches, each committed
   * with its checkpoint like live batches: one long transaction would hold back the snapshot xmin
   * and stall every gap-free reader of the log for the whole rebuild.
   */
  async rebuild(onProgress?: (p: RebuildProgress) => void): Promise<RebuildResult> {
    const wasRunning = this.running;
    if (wasRunning) await this.stop();
    const result = await this.alone('rebuild', () => this.replayAll(onProgress));
    if (wasRunning) await this.start();
    return result;
  }

  private async replayAll(onProgress: ((p: RebuildProgress) => void) | undefined): Promise<RebuildResult> {
    const started = performance.now();
    await this.inTransaction(async (tx) => {
      if (this.projection.init) await this.projection.init(tx);
      await tx.query({ name: 'fv_projection_seed', text: SQL.seed, values: [this.checkpointName, START_CHECKPOINT] });
      // Waits for a batch another runner has in flight, and makes that runner's next batch fail.
      await tx.query({ name: 'fv_projection_lock', text: SQL.lock, values: [this.checkpointName] });
      await this.projection.reset(tx);
      await tx.query({ name: 'fv_projection_advance', text: SQL.advance, values: [this.checkpointName, START_CHECKPOINT] });
    });
    this.position = START_CHECKPOINT;
    const target = await this.store.lastCommittedCheckpoint();
    const counted = await this.countEvents(target);
    let progress: RebuildProgress = { processed: 0, total: counted, eventsPerSec: 0 };
    let reported = false;
    await this.drainTo(target, (processed) => {
      const seconds = (performance.now() - started) / 1000;
      progress = { processed, total: Math.max(counted, processed), eventsPerSec: seconds > 0 ? Math.round(processed / seconds) : 0 };
      reported = true;
      onProgress?.(progress);
    });
    // An empty log still reports once, so a progress display can finish.
    if (!reported) onProgress?.(progress);
    const durationMs = Math.round(performance.now() - started);
    this.logger?.info({ ...progress, durationMs }, 'projection rebuilt');
    return { ...progress, durationMs, checkpoint: this.position };
  }

  private async alone<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.exclusive) throw new Error(`projection "${this.projection.name}": cannot ${what} while ${this.exclusive} is under way`);
    this.exclusive = what;
    try {
      return await fn();
    } finally {
      this.exclusive = undefined;
    }
  }

  /** Steps until the position reaches `target` and the log has nothing more readable right now. */
  private async drainTo(target: string, onBatch?: (appliedSoFar: number) => void): Promise<number> {
    let applied = 0;
    for (;;) {
      const step = await this.step();
      applied += step.applied;
      if (step.applied > 0 || step.full) onBatch?.(applied);
      if (step.full) continue;
      if (this.position !== undefined && compareCheckpoints(this.position, target) >= 0) return applied;
      // Committed but not readable yet: an older transaction, in any database of the cluster, is
      // still open. Its end releases them.
      await new Promise((resolve) => setTimeout(resolve, HELD_BACK_POLL_MS));
    }
  }

  private async loop(): Promise<void> {
    let delay = this.retryDelayMs;
    let needsPrepare = false;
    while (!this.stopping) {
      try {
        if (needsPrepare) {
          await this.prepare();
          needsPrepare = false;
        }
        const step = await this.step();
        this.failure = undefined;
        delay = this.retryDelayMs;
        if (!step.full) await this.idle(this.nextPollDelay());
      } catch (e) {
        // The batch rolled back whole; retry from the checkpoint as stored (it may have moved).
        this.failure = e as Error;
        this.logger?.error({ err: e, checkpoint: this.position, retryInMs: delay }, 'projection batch failed');
        needsPrepare = true;
        await this.idle(delay, false);
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
      }
    }
  }

  /** Reads one batch after the current position and commits it; resolves waiters it satisfies. */
  private async step(): Promise<StepResult> {
    const from = this.position ?? START_CHECKPOINT;
    const batch = await this.read(from);
    if (batch.checkpoint === from) {
      this.settleWaiters();
      return { applied: 0, full: false };
    }
    // After a full batch the store reads the next one while this one commits (read-ahead): catch-up
    // time is then about max(read, apply), not their sum.
    const full = batch.events.length >= this.batchSize;
    await this.commit(from, batch.checkpoint, batch.events);
    this.position = batch.checkpoint;
    this.settleWaiters();
    return { applied: batch.events.length, full };
  }

  /**
   * An append we were told about can still be unreadable (an older transaction, in any database of
   * the cluster, holds the snapshot xmin back): poll quickly until it is read, not a full interval.
   */
  private nextPollDelay(): number {
    if (this.noticed === undefined || this.position === undefined) return this.pollIntervalMs;
    if (compareCheckpoints(this.position, this.noticed) >= 0) {
      this.noticed = undefined;
      return this.pollIntervalMs;
    }
    return Math.min(this.pollIntervalMs, HELD_BACK_POLL_MS);
  }

  private async commit(from: string, to: string, events: readonly RecordedEvent[]): Promise<void> {
    await this.inTransaction(async (tx) => {
      const locked = await tx.query<{ checkpoint: string }>({ name: 'fv_projection_lock', text: SQL.lock, values: [this.checkpointName] });
      const stored = locked.rows[0]?.checkpoint;
      if (stored !== from) throw new ProjectionCheckpointMovedError(this.projection.name, from, stored);
      if (events.length > 0) await this.projection.applyBatch(events, tx);
      await tx.query({ name: 'fv_projection_advance', text: SQL.advance, values: [this.checkpointName, to] });
    });
  }

  private read(from: string): Promise<ReadAllResult> {
    return this.store.readAll(from, this.batchSize, this.types ? { types: this.types } : {});
  }

  /** Runs init and makes sure the checkpoint row exists; loads the position from it. */
  private async prepare(): Promise<void> {
    if (this.projection.init) {
      const init = this.projection.init.bind(this.projection);
      await this.inTransaction((tx) => init(tx));
    }
    let stored = await this.loadCheckpoint();
    if (stored === undefined) {
      const start = await this.startCheckpoint();
      // Saved at once: after a restart the projection resumes here, it does not jump to a new end.
      await this.pool.query({ name: 'fv_projection_seed', text: SQL.seed, values: [this.checkpointName, start] });
      stored = (await this.loadCheckpoint()) ?? start;
      this.logger?.info({ checkpoint: stored }, 'projection starts');
    }
    this.position = stored;
  }

  private async loadCheckpoint(): Promise<string | undefined> {
    const res = await this.pool.query<{ checkpoint: string }>({ name: 'fv_projection_load', text: SQL.load, values: [this.checkpointName] });
    return res.rows[0]?.checkpoint;
  }

  private async startCheckpoint(): Promise<string> {
    const start = this.opts.startFrom ?? 'beginning';
    if (start === 'beginning') return START_CHECKPOINT;
    if (start === 'end') return this.store.headCheckpoint();
    return start;
  }

  /** Events up to `target` the projection will replay. */
  private async countEvents(target: string): Promise<number> {
    const { transactionId, globalPosition } = parseCheckpoint(target);
    const bound = [transactionId.toString(), globalPosition.toString()];
    const res = this.types
      ? await this.pool.query<{ n: string }>({ text: SQL.countTypes, values: [...bound, this.types] })
      : await this.pool.query<{ n: string }>({ text: SQL.countAll, values: bound });
    return Number(res.rows[0]?.n ?? 0);
  }

  private async inTransaction<T>(fn: (tx: ProjectionTx) => Promise<T>): Promise<T> {
    const client: PoolClient = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client whose backend dies between queries emits 'error'; unheard, it would
    // crash the process.
    const onError = (e: Error): void => {
      broken = e;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken ??= rollbackError as Error;
      }
      throw e;
    } finally {
      client.off('error', onError);
      // A broken connection is destroyed rather than handed to the next user of the pool.
      client.release(broken);
    }
  }

  private settleWaiters(): void {
    if (this.waiters.size === 0 || this.position === undefined) return;
    for (const w of this.waiters) {
      if (compareCheckpoints(this.position, w.target) >= 0) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wakeRequested = true;
  }

  /** Sleeps `ms`, cut short by stop() and (when `wakeable`) by new appends or waiters. */
  private idle(ms: number, wakeable = true): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (wakeable && this.wakeRequested) {
      this.wakeRequested = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.wakeRequested = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = wakeable ? done : () => (this.stopping ? done() : undefined);
    });
  }
}

/** Rebuilds a projection from the whole log (see ProjectionRunner.rebuild). */
export async function rebuildProjection(
  pool: Pool,
  store: PostgresEventStore,
  projection: Projection,
  onProgress?: (p: RebuildProgress) => void,
  opts: Omit<ProjectionRunnerOptions, 'startFrom'> = {},
): Promise<RebuildResult> {
  return new ProjectionRunner(pool, store, projection, opts).rebuild(onProgress);
}
