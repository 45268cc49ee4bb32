// Leadership over a named role with a Postgres session advisory lock held on a dedicated
// connection: the lock lives exactly as long as that connection, so a dead holder frees it, and a
// holder that loses its connection learns it here (onLost) and must stop acting as leader.
import { Client, type ClientConfig } from 'pg';
import type { Logger } from '@fleetvisor/platform';
import type { LeaderLock } from './types';
import { advisoryLockKey } from './advisory-lock-key';

export interface PostgresLeaderLockOptions {
  logger?: Logger;
  /**
   * How often the holder checks its connection (default 5000 ms; 0 disables). A connection that
   * silently stopped answering (network partition) raises no event, so it is probed.
   */
  healthCheckIntervalMs?: number;
}

export class PostgresLeaderLock implements LeaderLock {
  private client: Client | undefined;
  private isHeld = false;
  private readonly listeners = new Set<() => void>();
  private healthTimer: NodeJS.Timeout | undefined;
  private readonly key: string;

  constructor(
    private readonly connection: string | ClientConfig,
    readonly name: string,
    private readonly opts: PostgresLeaderLockOptions = {},
  ) {
    if (name.length === 0) throw new RangeError('leader lock name must not be empty');
    this.key = advisoryLockKey(`fleetvisor:leader:${name}`);
  }

  get held(): boolean {
    return this.isHeld;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.isHeld) return true;
    const client = await this.connect();
    const res = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [this.key]);
    if (res.rows[0]?.ok !== true) {
      // Standing by: keep no connection open while not leading.
      await this.closeClient();
      return false;
    }
    this.isHeld = true;
    this.startHealthCheck();
    this.opts.logger?.info({ lock: this.name }, 'leader lock acquired');
    return true;
  }

  async release(): Promise<void> {
    const wasHeld = this.isHeld;
    this.isHeld = false;
    this.stopHealthCheck();
    const client = this.client;
    if (wasHeld && client) {
      try {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]);
      } catch {
        // Closing the connection below releases the lock anyway.
      }
    }
    await this.closeClient();
    if (wasHeld) this.opts.logger?.info({ lock: this.name }, 'leader lock released');
  }

  onLost(listener: () => void): void {
    this.listeners.add(listener);
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    const config: ClientConfig = typeof this.connection === 'string' ? { connectionString: this.connection } : { ...this.connection };
    const client = new Client({ application_name: `fleetvisor-lock:${this.name}`.slice(0, 63), keepAlive: true, keepAliveInitialDelayMillis: 10_000, ...config });
    // Handlers before connect: a terminated backend emits 'error' and 'end' asynchronously.
    client.on('error', (err) => this.connectionLost(client, err));
    client.on('end', () => this.connectionLost(client, undefined));
    this.client = client;
    try {
      await client.connect();
    } catch (e) {
      this.client = undefined;
      throw e;
    }
    return client;
  }

  private connectionLost(client: Client, err: Error | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.stopHealthCheck();
    // End a broken client for good; ignore its own complaints about ending.
    client.end().catch(() => undefined);
    if (!this.isHeld) return;
    this.isHeld = false;
    this.opts.logger?.warn({ lock: this.name, err }, 'leader lock lost: its connection ended');
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (e) {
        this.opts.logger?.error({ lock: this.name, err: e }, 'leader lock onLost listener failed');
      }
    }
  }

  private startHealthCheck(): void {
    const every = this.opts.healthCheckIntervalMs ?? 5_000;
    if (every <= 0) return;
    let probing = false;
    this.healthTimer = setInterval(() => {
      const client = this.client;
      if (!client || probing) return;
      probing = true;
      // No answer within one interval counts as lost: better to stop leading than to lead blind.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to the health check within ${every} ms`)), every);
      });
      Promise.race([client.query('SELECT 1'), timeout])
        .catch((e: Error) => this.connectionLost(client, e))
        .finally(() => {
          clearTimeout(timer);
          probing = false;
        });
    }, every);
    this.healthTimer.unref();
  }

  private stopHealthCheck(): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = undefined;
  }

  private async closeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }
}
