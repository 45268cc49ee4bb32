// New blocks of one chain as they come: a NewBlock subscription over the WebSocket of the endpoint
// in use, and `status` polling while the socket is down (or silent for longer than the stall
// limit). The socket is retried with capped exponential backoff; the first block comes from a poll
// so a start does not wait for the next block to be produced.
import { backoffDelay } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { BlockSubscription, ChainConnector, NewBlock } from './chain-rpc';
import type { EndpointPool } from './endpoint-pool';

export interface BlockFeedSettings {
  /** `status` polling interval while the WebSocket is down. */
  pollIntervalMs: number;
  /** WebSocket reconnect backoff: first delay, doubling up to the max. */
  wsRetryMinMs: number;
  wsRetryMaxMs: number;
  /** No NewBlock for this long on an open socket: treat it as dropped. */
  wsStallMs: number;
}

export interface BlockFeedOptions {
  chainId: string;
  connector: ChainConnector;
  endpoints: EndpointPool;
  settings: BlockFeedSettings;
  /** Logger of the chain. */
  logger: Logger;
  /** A block was seen. A poll waits for the returned promise before the next one. */
  onBlock(block: NewBlock): void | Promise<void>;
  /** A poll failed, or the endpoint serves another chain. */
  onPollProblem(message: string): void;
  /** The subscription went up or down. */
  onWebSocket?(up: boolean): void;
}

export class BlockFeed {
  private running = false;
  private sub: BlockSubscription | undefined;
  private up = false;
  private connecting = false;
  /** Callbacks of an older subscription attempt are ignored. */
  private generation = 0;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly opts: BlockFeedOptions) {}

  /** True while the NewBlock subscription is up. */
  get webSocketUp(): boolean {
    return this.up;
  }

  start(): void {
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.retryTimer = this.pollTimer = undefined;
    this.drop();
  }

  /** Subscribes again on the endpoint in use (after a switch), without waiting for the backoff. */
  resubscribe(): void {
    this.drop();
    this.attempt = 0;
    this.connect();
  }

  /** One `status` poll; returns after onBlock's promise (skipped while a poll is under way). */
  async pollOnce(): Promise<void> {
    if (this.polling || !this.running) return;
    this.polling = true;
    try {
      const s = await this.opts.endpoints.call((rpc) => rpc.status());
      if (s.chainId !== this.opts.chainId) {
        const endpoint = this.opts.endpoints.currentRedacted;
        this.opts.logger.error({ endpoint, served: s.chainId }, 'endpoint serves another chain: ignored');
        this.opts.onPollProblem(`endpoint ${endpoint} serves chain ${s.chainId}, not ${this.opts.chainId}`);
        return;
      }
      await this.opts.onBlock({ height: s.height, time: s.time, ...(s.earliestHeight ? { earliest: s.earliestHeight } : {}) });
    } catch (e) {
      this.opts.logger.warn({ err: (e as Error).message }, 'status poll failed');
      this.opts.onPollProblem((e as Error).message);
    } finally {
      this.polling = false;
    }
  }

  private connect(): void {
    if (!this.running || this.up || this.connecting) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.connecting = true;
    const generation = ++this.generation;
    const endpoint = this.opts.endpoints.current;
    const shown = this.opts.endpoints.currentRedacted;
    this.opts.connector
      .subscribe(endpoint, {
        onBlock: (block) => {
          if (generation !== this.generation || !this.running) return;
          this.armStallTimer();
          void this.opts.onBlock(block);
        },
        onClose: (reason) => this.closed(generation, reason),
      })
      .then(
        (sub) => {
          this.connecting = false;
          if (generation !== this.generation || !this.running) {
            sub.close();
            this.connect();
            return;
          }
          this.sub = sub;
          this.up = true;
          this.attempt = 0;
          this.stopPolling();
          this.armStallTimer();
          this.opts.onWebSocket?.(true);
          this.opts.logger.info({ endpoint: shown }, 'subscribed to NewBlock');
        },
        (e: unknown) => {
          this.connecting = false;
          if (generation !== this.generation || !this.running) {
            this.connect();
            return;
          }
          this.opts.logger.debug({ endpoint: shown, err: (e as Error).message }, 'WebSocket subscribe failed');
          this.startPolling();
          this.scheduleRetry();
        },
      );
  }

  private closed(generation: number, reason: string): void {
    if (generation !== this.generation || !this.running) return;
    this.opts.logger.warn({ reason, endpoint: this.opts.endpoints.currentRedacted }, 'WebSocket dropped: polling until it is back');
    this.drop();
    this.startPolling();
    this.scheduleRetry();
  }

  private drop(): void {
    this.generation++;
    this.sub?.close();
    this.sub = undefined;
    this.connecting = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (this.up) this.opts.onWebSocket?.(false);
    this.up = false;
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer) return;
    const { wsRetryMinMs, wsRetryMaxMs } = this.opts.settings;
    const delay = backoffDelay(++this.attempt, { initialMs: wsRetryMinMs, maxMs: wsRetryMaxMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect();
    }, delay);
  }

  private armStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (this.up) this.closed(this.generation, `no NewBlock for ${this.opts.settings.wsStallMs} ms`);
    }, this.opts.settings.wsStallMs);
  }

  private startPolling(): void {
    if (this.pollTimer || !this.running) return;
    this.pollTimer = setInterval(() => void this.pollOnce(), this.opts.settings.pollIntervalMs);
    void this.pollOnce();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
