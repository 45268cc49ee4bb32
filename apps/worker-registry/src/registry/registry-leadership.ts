// RegistryLeadership: one active registry per event log. Its state is in memory, so two active
// registries would record the same changes twice; a second instance stands by on a Postgres
// leader lock until the active one stops, and an instance that loses the lock must stop.
import type { LeaderLock } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';

export const WORKER_REGISTRY_LOCK = 'fleetvisor:worker-registry';

/** Makes the lock (EventStoreConnection.leaderLock). */
export interface LeaderLocks {
  leaderLock(name: string, opts: { logger?: Logger }): LeaderLock;
}

export interface RegistryLeadershipOptions {
  /** Tries again this often while standing by (default 1 s). */
  retryMs?: number;
  /** Called when the held lock is lost (its connection dropped): another instance may take over. */
  onLost?: () => void;
}

export class RegistryLeadership {
  private lock: LeaderLock | undefined;
  private standingBy = false;
  private readonly log: Logger;

  constructor(
    private readonly locks: LeaderLocks,
    logger: Logger,
    private readonly opts: RegistryLeadershipOptions = {},
  ) {
    this.log = logger.child({ component: 'worker-registry' });
  }

  /** Resolves once this instance holds the lock; rejects if stop() is called while standing by. */
  async acquire(): Promise<void> {
    const lock = this.locks.leaderLock(WORKER_REGISTRY_LOCK, { logger: this.log });
    this.lock = lock;
    this.standingBy = true;
    let told = false;
    while (!(await lock.tryAcquire())) {
      if (!this.standingBy) throw new Error('worker registry stopped while standing by');
      if (!told) this.log.info('another worker registry is active on this event log; standing by');
      told = true;
      await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 1_000));
    }
    this.standingBy = false;
    lock.onLost(() => {
      this.log.error('worker registry lost its leader lock; another instance may take over: stopping');
      this.opts.onLost?.();
    });
  }

  /** Stops standing by (acquire() then rejects). */
  stopStandingBy(): void {
    this.standingBy = false;
  }

  async release(): Promise<void> {
    this.standingBy = false;
    const lock = this.lock;
    this.lock = undefined;
    await lock?.release().catch(() => undefined);
  }
}
