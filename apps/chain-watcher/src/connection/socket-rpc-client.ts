// A CometBFT JSON-RPC client over one WebSocket, for CosmJS's Comet38Client (it implements CosmJS's
// RpcStreamingClient). Why not CosmJS's own WebsocketClient: it reconnects silently and does not
// subscribe again, so a dropped socket looks like a chain that stopped producing blocks. This one
// never reconnects: when the socket ends, pending calls fail, every subscription stream errors,
// and the owner (ChainMonitor) decides what to do — poll, reconnect with backoff, fail over.
// It also keeps the raw NewBlock payload's result_finalize_block events, which CosmJS's decoder
// drops, so the watcher needs no block_results call for blocks whose event carried them.
import WebSocket from 'ws';
import { Stream, type Listener } from 'xstream';
import type { RpcStreamingClient, SubscriptionEvent } from '@cosmjs/tendermint-rpc/build/rpcclients/rpcclient';
import { blockResultEvents } from './block-results';
import type { BlockEvent } from './chain-rpc';

type JsonRpcRequest = Parameters<RpcStreamingClient['execute']>[0];
type JsonRpcSuccessResponse = Awaited<ReturnType<RpcStreamingClient['execute']>>;

interface Pending {
  resolve(r: JsonRpcSuccessResponse): void;
  reject(e: Error): void;
}

interface RawMessage {
  jsonrpc?: string;
  id?: string | number;
  result?: { query?: string; data?: { type?: string; value?: Record<string, unknown> } } & Record<string, unknown>;
  error?: { code?: number; message?: string; data?: string };
}

/** The block's events in a 0.38 NewBlock payload: result_finalize_block's own and its transactions'. */
function finalizeEvents(value: Record<string, unknown> | undefined): { height: number; events: BlockEvent[] } | undefined {
  const fb = value?.['result_finalize_block'] as { events?: unknown; tx_results?: unknown } | undefined;
  const header = (value?.['block'] as { header?: { height?: unknown } } | undefined)?.header;
  const height = Number(header?.height);
  if (!fb || !Array.isArray(fb.events) || !Number.isSafeInteger(height)) return undefined;
  return { height, events: blockResultEvents({ finalize_block_events: fb.events, txs_results: fb.tx_results }) };
}

export class SocketRpcClient implements RpcStreamingClient {
  private readonly pending = new Map<string | number, Pending>();
  private readonly streams = new Map<string | number, Listener<SubscriptionEvent>>();
  private readonly subscribeAcks = new Map<string | number, Pending>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  /** result_finalize_block events of recent NewBlock payloads, by height. */
  private readonly finalizeByHeight = new Map<number, BlockEvent[]>();
  private closedReason: string | undefined;
  private lastAck: Promise<void> | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', (code, reason) => this.ended(`WebSocket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`));
    ws.on('error', (err) => this.ended(`WebSocket error: ${err.message}`));
  }

  /** Opens the socket; rejects when it is not open within timeoutMs. */
  static connect(url: string, timeoutMs: number): Promise<SocketRpcClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false });
      const fail = (e: Error): void => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(e);
      };
      const timer = setTimeout(() => fail(new Error(`WebSocket ${url}: not open within ${timeoutMs} ms`)), timeoutMs);
      ws.once('error', (e) => fail(new Error(`WebSocket ${url}: ${e.message}`)));
      ws.once('unexpected-response', (_req, res) => fail(new Error(`WebSocket ${url}: upgrade refused (HTTP ${res.statusCode})`)));
      ws.once('open', () => {
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(new SocketRpcClient(ws));
      });
    });
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closedReason !== undefined) listener(this.closedReason);
    else this.closeListeners.add(listener);
  }

  /** The finalize_block_events the NewBlock payload of `height` carried (consumed once). */
  takeFinalizeEvents(height: number): BlockEvent[] | undefined {
    const events = this.finalizeByHeight.get(height);
    this.finalizeByHeight.delete(height);
    return events;
  }

  execute(request: JsonRpcRequest): Promise<JsonRpcSuccessResponse> {
    if (this.closedReason !== undefined) return Promise.reject(new Error(this.closedReason));
    return new Promise((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      this.ws.send(JSON.stringify(request), (err) => {
        if (err) {
          this.pending.delete(request.id);
          reject(err);
        }
      });
    });
  }

  listen(request: JsonRpcRequest): Stream<SubscriptionEvent> {
    return Stream.create<SubscriptionEvent>({
      start: (listener) => {
        if (this.closedReason !== undefined) {
          listener.error(new Error(this.closedReason));
          return;
        }
        this.streams.set(request.id, listener);
        this.lastAck = new Promise<void>((resolve, reject) => this.subscribeAcks.set(request.id, { resolve: () => resolve(), reject }));
        this.lastAck.catch(() => undefined);
        this.ws.send(JSON.stringify(request), (err) => {
          if (err) this.ended(`subscribe could not be sent: ${err.message}`);
        });
      },
      stop: () => {
        this.streams.delete(request.id);
      },
    });
  }

  /** Resolves when the server has confirmed the latest subscription (the reply to its subscribe). */
  whenSubscribed(timeoutMs: number): Promise<void> {
    const ack = this.lastAck;
    if (!ack) return Promise.reject(new Error('nothing subscribed'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`subscribe not confirmed within ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([ack, timeout]).finally(() => clearTimeout(timer));
  }

  disconnect(): void {
    this.ended('disconnected');
    this.ws.terminate();
  }

  private onMessage(text: string): void {
    let msg: RawMessage;
    try {
      msg = JSON.parse(text) as RawMessage;
    } catch {
      this.ended('the node sent a message that is not JSON');
      this.ws.terminate();
      return;
    }
    if (msg.id === undefined) return;
    const stream = this.streams.get(msg.id);
    if (stream) {
      if (msg.error) {
        this.subscribeAcks.get(msg.id)?.reject(new Error(JSON.stringify(msg.error)));
        stream.error(new Error(`subscription refused: ${JSON.stringify(msg.error)}`));
        this.streams.delete(msg.id);
        return;
      }
      if (msg.result && typeof msg.result.query === 'string') {
        const fb = finalizeEvents(msg.result.data?.value);
        if (fb) {
          this.finalizeByHeight.set(fb.height, fb.events);
          // Bounded: heights nobody took (the owner fetched or skipped them) are forgotten.
          if (this.finalizeByHeight.size > 64) this.finalizeByHeight.delete(this.finalizeByHeight.keys().next().value as number);
        }
        stream.next(msg.result as unknown as SubscriptionEvent);
      } else {
        const ack = this.subscribeAcks.get(msg.id);
        this.subscribeAcks.delete(msg.id);
        ack?.resolve(undefined as unknown as JsonRpcSuccessResponse);
      }
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
    else p.resolve(msg as JsonRpcSuccessResponse);
  }

  private ended(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const err = new Error(reason);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const a of this.subscribeAcks.values()) a.reject(err);
    this.subscribeAcks.clear();
    for (const s of this.streams.values()) s.error(err);
    this.streams.clear();
    for (const l of this.closeListeners) l(reason);
    this.closeListeners.clear();
  }
}
