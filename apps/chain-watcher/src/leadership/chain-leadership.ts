// Exactly one replica acts for a chain: it holds the chain's leader lock (a Postgres advisory lock
// on its own connection, freed the moment the holder's process dies). Standbys try again every
// `retryMs`, so a takeover costs at most retryMs plus the start of a monitor (fold the stream,
// subscribe, one Params query). A leader that loses its lock stops acting at once.
import type { LeaderLock } from '@fleetvisor/event-store';
import type { Logger } from '@fleetvisor/platform';

export interface Leading {
  stop(): Promise<void>;
}

export interface ChainLeadershipOptions {
  chainId: string;
  lock: LeaderLock;
  retryMs: number;
  logger: Logger;
  /** Starts acting for the chain; called each time the lock is won. */
  lead(): Promise<Leading>;
  onChange?(leading: boolean): void;
}

export class ChainLeadership {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private leading: Leading | undefined;
  private transition: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly opts: ChainLeadershipOptions) {
    this.log = opts.logger.child({ chainId: opts.chainId });
    opts.lock.onLost(() => {
      this.log.warn('leadership lost: stopping');
      this.transition = this.transition.then(() => this.resign()).then(() => this.schedule(0));
    });
  }

  get isLeader(): boolean {
    return this.leading !== undefined;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.transition;
    await this.resign();
    await this.opts.lock.release().catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.transition = this.transition.then(() => this.attempt());
    }, delayMs);
  }

  private async attempt(): Promise<void> {
    if (!this.running || this.leading) return;
    let won = false;
    try {
      won = await this.opts.lock.tryAcquire();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'leader lock attempt failed');
    }
    if (!won || !this.running) {
      if (won) await this.opts.lock.release().catch(() => undefined);
      this.schedule(this.opts.retryMs);
      return;
    }
    try {
      this.leading = await this.opts.lead();
      this.opts.onChange?.(true);
    } catch (e) {
      this.log.error({ err: e }, 'could not start leading: releasing the lock for another replica');
      await this.opts.lock.release().catch(() => undefined);
      this.schedule(this.opts.retryMs);
    }
  }

  private async resign(): Promise<void> {
    const leading = this.leading;
    this.leading = undefined;
    if (!leading) return;
    this.opts.onChange?.(false);
    await leading.stop().catch((e: unknown) => this.log.warn({ err: e }, 'stopping the monitor failed'));
  }
}
