// ChainConnector over CosmJS: queries through Comet38Client on an HttpClient (stateless, so a
// failed endpoint costs nothing to leave), NewBlock through Comet38Client.subscribeNewBlock on
// our SocketRpcClient. Every call is bounded by the RPC timeout and counted by method.
import { Comet38Client, HttpClient } from '@cosmjs/tendermint-rpc';
import type { BlockEvent, BlockHandlers, BlockSubscription, ChainConnector, ChainRpc, RpcMethod } from './chain-rpc';
import { RpcAnswerError } from './chain-rpc';
import { blockResultEvents } from './block-results';
import { SocketRpcClient } from './socket-rpc-client';

export interface CosmjsConnectorOptions {
  timeoutMs: number;
  /** Called before every request sent to a node. */
  onCall?: (endpoint: string, method: RpcMethod) => void;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** ws(s)://host:port/websocket for an http(s) RPC root. */
export function webSocketUrl(endpoint: string): string {
  const u = new URL(endpoint);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = u.pathname.replace(/\/+$/, '') + '/websocket';
  return u.toString();
}

/** HttpClient throws the JSON-RPC error object as its message: the node answered, with an error. */
function answerError(e: unknown, what: string): unknown {
  if (!(e instanceof Error)) return e;
  try {
    const error = JSON.parse(e.message) as { code?: unknown; message?: unknown; data?: unknown };
    if (typeof error?.code === 'number') return new RpcAnswerError(`${what}: ${String(error.message ?? '')} ${String(error.data ?? '')}`.trim(), error);
  } catch {
    // not a JSON-RPC error: a transport failure
  }
  return e;
}

class CosmjsChainRpc implements ChainRpc {
  private readonly http: HttpClient;
  private readonly client: Comet38Client;
  private requestId = 0;

  constructor(
    private readonly endpoint: string,
    private readonly opts: CosmjsConnectorOptions,
  ) {
    this.http = new HttpClient(endpoint, opts.timeoutMs);
    this.client = Comet38Client.create(this.http);
  }

  private call<T>(method: RpcMethod, fn: () => Promise<T>): Promise<T> {
    this.opts.onCall?.(this.endpoint, method);
    return withTimeout(fn(), this.opts.timeoutMs, method);
  }

  async status(): Promise<{ chainId: string; height: number; time: Date }> {
    const s = await this.call('status', () => this.client.status());
    const earliest = s.syncInfo.earliestBlockHeight;
    return {
      chainId: s.nodeInfo.network,
      height: s.syncInfo.latestBlockHeight,
      time: new Date(s.syncInfo.latestBlockTime.getTime()),
      ...(earliest ? { earliestHeight: earliest } : {}),
    };
  }

  /** Read raw: CosmJS's Comet38 decoder keeps finalize_block_events only, not 0.37's begin/end_block_events. */
  async blockEvents(height: number): Promise<BlockEvent[]> {
    const request = { jsonrpc: '2.0' as const, id: ++this.requestId, method: 'block_results', params: { height: String(height) } };
    const r = await this.call('block_results', () => this.http.execute(request).catch((e: unknown) => Promise.reject(answerError(e, `block_results at ${height}`))));
    return blockResultEvents(r.result);
  }

  async abciQuery(path: string, height?: number): Promise<{ value: Uint8Array; height: number }> {
    const r = await this.call('abci_query', () => this.client.abciQuery({ path, data: new Uint8Array(0), prove: false, ...(height ? { height } : {}) }));
    if (r.code) throw new RpcAnswerError(`${path} failed with code ${r.code}: ${r.log ?? ''}`, { code: r.code, codespace: r.codespace, log: r.log, height: r.height });
    return { value: r.value, height: r.height ?? height ?? 0 };
  }

  close(): void {
    this.client.disconnect();
  }
}

class CosmjsBlockSubscription implements BlockSubscription {
  private closedByUs = false;

  constructor(private readonly socket: SocketRpcClient) {}

  close(): void {
    this.closedByUs = true;
    this.socket.disconnect();
  }

  get ours(): boolean {
    return this.closedByUs;
  }
}

export class CosmjsConnector implements ChainConnector {
  constructor(private readonly opts: CosmjsConnectorOptions) {}

  rpc(endpoint: string): ChainRpc {
    return new CosmjsChainRpc(endpoint, this.opts);
  }

  async subscribe(endpoint: string, handlers: BlockHandlers): Promise<BlockSubscription> {
    this.opts.onCall?.(endpoint, 'subscribe');
    const socket = await SocketRpcClient.connect(webSocketUrl(endpoint), this.opts.timeoutMs);
    const sub = new CosmjsBlockSubscription(socket);
    let ended = false;
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      if (!sub.ours) handlers.onClose(reason);
    };
    socket.onClose(end);
    const comet = Comet38Client.create(socket);
    comet.subscribeNewBlock().addListener({
      next: (b) => {
        const height = b.header.height;
        const events = socket.takeFinalizeEvents(height);
        handlers.onBlock({ height, time: new Date(b.header.time.getTime()), ...(events ? { events } : {}) });
      },
      error: (e: unknown) => end(e instanceof Error ? e.message : String(e)),
      complete: () => end('subscription completed'),
    });
    try {
      await socket.whenSubscribed(this.opts.timeoutMs);
    } catch (e) {
      sub.close();
      throw e;
    }
    return sub;
  }
}
