// The endpoints of one chain, in configured order: queries run on the endpoint in use and fail over
// to the next one on a timeout or a transport error (an answer with an error code is an answer: it
// does not fail over). While on a fallback, the preferred endpoints are probed and taken back as
// soon as they answer and are not behind.
import { redactEndpoint } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { RpcAnswerError, type ChainConnector, type ChainRpc } from './chain-rpc';

export class AllEndpointsFailedError extends Error {
  override name = 'AllEndpointsFailedError';
}

/** What the pool reports for /metrics. */
export interface EndpointMetrics {
  rpcError(chainId: string, endpoint: string): void;
  endpointInUse(chainId: string, endpoint: string, all: readonly string[]): void;
}

export interface EndpointPoolOptions {
  chainId: string;
  endpoints: readonly string[];
  connector: ChainConnector;
  /** Logger of the chain. */
  logger: Logger;
  metrics?: EndpointMetrics;
  /** The endpoint in use changed (the block subscription follows it). */
  onSwitch(): void;
}

export class EndpointPool {
  private readonly rpcs = new Map<number, ChainRpc>();
  private index = 0;
  private errors = 0;

  constructor(private readonly opts: EndpointPoolOptions) {
    if (opts.endpoints.length === 0) throw new RangeError(`chain ${opts.chainId}: no endpoints`);
  }

  /** The endpoint in use (with credentials). */
  get current(): string {
    return this.opts.endpoints[this.index]!;
  }

  /** The endpoint in use, for logs, events and status. */
  get currentRedacted(): string {
    return redactEndpoint(this.current);
  }

  get onPreferred(): boolean {
    return this.index === 0;
  }

  /** Failed calls since the pool was made. */
  get rpcErrors(): number {
    return this.errors;
  }

  reportInUse(): void {
    this.opts.metrics?.endpointInUse(this.opts.chainId, this.currentRedacted, this.opts.endpoints.map(redactEndpoint));
  }

  /** Runs a query on the endpoint in use, failing over in configured order. */
  async call<T>(fn: (rpc: ChainRpc) => Promise<T>): Promise<T> {
    let last: unknown;
    const n = this.opts.endpoints.length;
    const start = this.index;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      try {
        const result = await fn(this.rpc(i));
        this.switchTo(i, 'failover');
        return result;
      } catch (e) {
        if (e instanceof RpcAnswerError) {
          this.switchTo(i, 'failover');
          throw e;
        }
        last = e;
        this.errors++;
        const endpoint = redactEndpoint(this.opts.endpoints[i]!);
        this.opts.metrics?.rpcError(this.opts.chainId, endpoint);
        this.opts.logger.warn({ endpoint, err: (e as Error).message }, 'RPC call failed');
      }
    }
    throw new AllEndpointsFailedError(`every endpoint failed; last: ${(last as Error)?.message ?? String(last)}`);
  }

  /** Takes back the first preferred endpoint that answers at `minHeight - 1` or above. */
  async probePreferred(minHeight: number): Promise<void> {
    for (let i = 0; i < this.index; i++) {
      try {
        const s = await this.rpc(i).status();
        if (s.height + 1 >= minHeight) {
          this.opts.logger.info({ endpoint: redactEndpoint(this.opts.endpoints[i]!) }, 'preferred endpoint answers again: switching back');
          this.switchTo(i, 'preferred endpoint recovered');
          return;
        }
      } catch {
        // still down: probed again later
      }
    }
  }

  close(): void {
    for (const rpc of this.rpcs.values()) rpc.close();
    this.rpcs.clear();
  }

  private rpc(i: number): ChainRpc {
    let rpc = this.rpcs.get(i);
    if (!rpc) {
      rpc = this.opts.connector.rpc(this.opts.endpoints[i]!);
      this.rpcs.set(i, rpc);
    }
    return rpc;
  }

  private switchTo(i: number, why: string): void {
    if (i === this.index) return;
    this.opts.logger.warn({ from: this.currentRedacted, to: redactEndpoint(this.opts.endpoints[i]!), why }, 'switching endpoint');
    this.index = i;
    this.reportInUse();
    this.opts.onSwitch();
  }
}
