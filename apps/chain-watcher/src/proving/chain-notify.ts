// Filecoin.ChainNotify over WebSocket, as Lotus and venus serve it (go-jsonrpc channels): the call
// is answered with a channel id, then every head change arrives as a notification
//   {"method": "xrpc.ch.val", "params": [<channel id>, [{"Type": "current"|"apply"|"revert", "Val": TipSet}]]}
// (first one "current" with the head), and {"method": "xrpc.ch.close", "params": [<channel id>]}
// when the node ends it. This client keeps one subscription up across the chain's endpoints, in
// their order, and says when it is up or down; the proving watch polls ChainHead while it is down.
//
// While the subscription is up, the watch's state calls go over the same socket (call()): a
// request per call over one connection costs the node and the watcher far less than an HTTP
// request each, and a Lotus node serves every method on its WebSocket. A call the socket cannot
// carry (down, dropped mid-call) fails as a transport error, and the watch makes it over HTTP.
//
// A notification is only a hint of which head to look at: it is checked like any answer of the node
// (the TipSet shape), and what the watch decides comes from the state it reads at that head. So a
// lost or coalesced notification delays an observation, it never loses one; a socket that goes
// quiet for `stallMs` is treated as down (a half-open TCP connection sends no close).
import WebSocket from 'ws';
import type { Logger } from '@fleetvisor/platform';
import { LotusRpcError, redactEndpoint, tokenAdvice } from './lotus-client';
import { parseTipSet, ShapeError, type TipSetHead } from './lotus-shapes';

export const CHAIN_NOTIFY = 'Filecoin.ChainNotify';
const CH_VAL = 'xrpc.ch.val';
const CH_CLOSE = 'xrpc.ch.close';
/** Head changes in one notification at most (Lotus sends a few; a long reorg some more). */
const MAX_CHANGES = 1_000;
const MAX_FRAME = 16 << 20;
const UNSUPPORTED_RETRY_FACTOR = 12;

/** The WebSocket URL of a JSON-RPC endpoint: http(s):// becomes ws(s)://, same host and path. */
export function notifyUrlOf(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.toString();
}

/** The HTTP URL of a JSON-RPC endpoint given as ws(s)://: state calls go over HTTP. */
export function httpUrlOf(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  return u.toString();
}

export type HeadChangeKind = 'current' | 'apply' | 'revert';

export interface HeadChange {
  type: HeadChangeKind;
  head: TipSetHead;
}

/** One notification's changes, checked: each a known Type and a well-formed TipSet. */
export function parseHeadChanges(v: unknown): HeadChange[] {
  if (!Array.isArray(v)) throw new ShapeError('ChainNotify: expected an array of head changes');
  if (v.length === 0 || v.length > MAX_CHANGES) throw new ShapeError(`ChainNotify: ${v.length} head changes in one notification`);
  return v.map((c, i) => {
    const o = (typeof c === 'object' && c !== null ? c : {}) as { Type?: unknown; Val?: unknown };
    if (o.Type !== 'current' && o.Type !== 'apply' && o.Type !== 'revert') throw new ShapeError(`ChainNotify[${i}]: Type must be current, apply or revert`);
    return { type: o.Type, head: parseTipSet(o.Val) };
  });
}

export interface ChainNotifyOptions {
  /** JSON-RPC endpoints in failover order (http(s):// or ws(s)://). */
  endpoints: string[];
  token?: string;
  /** The setting the token comes from, named when a node refuses it. */
  tokenVariable?: string;
  /** Connecting and the subscription's answer, each. */
  timeoutMs: number;
  /** Reconnection backoff, doubling from `retryMinMs`. */
  retryMinMs: number;
  retryMaxMs: number;
  /** No notification for this long: the socket is dropped and counted down. */
  stallMs: number;
  logger: Logger;
  /** Every change, in the node's order. */
  onChanges(changes: HeadChange[]): void;
  /** The subscription is up (its "current" follows) or down (with why). */
  onState(up: boolean, reason: string): void;
  onCall?(method: string): void;
}

export class ChainNotifyClient {
  private ws: WebSocket | undefined;
  private running = false;
  private nextCallId = 2;
  /** Calls in flight on the subscribed socket, by request id. */
  private readonly inflight = new Map<number, { method: string; resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private subscribed = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private endpointIndex = 0;
  private lastProblem: string | undefined;
  /** An endpoint of the current round answered ChainNotify with method-not-found. */
  private unsupported = false;
  /** ChainNotify requests sent (each is one call to the node). */
  calls = 0;
  /** Subscriptions established since start. */
  subscriptions = 0;

  constructor(private readonly opts: ChainNotifyOptions) {
    if (opts.endpoints.length === 0) throw new Error('ChainNotify needs at least one endpoint');
  }

  get up(): boolean {
    return this.subscribed;
  }

  /** The endpoint of the subscription (redacted), when up. */
  get endpoint(): string | undefined {
    return this.subscribed ? redactEndpoint(this.opts.endpoints[this.endpointIndex]!) : undefined;
  }

  /** Why the subscription is down (undefined when up or never tried). */
  get problem(): string | undefined {
    return this.subscribed ? undefined : this.lastProblem;
  }

  start(): void {
    this.running = true;
    this.connect(0);
  }

  /**
   * A JSON-RPC call on the subscribed socket. Rejects with a LotusRpcError carrying the node's
   * code when the node answers an error, without a code when the socket could not carry it.
   */
  call(method: string, params: unknown[]): Promise<unknown> {
    const ws = this.ws;
    if (!this.subscribed || !ws || ws.readyState !== ws.OPEN) return Promise.reject(new LotusRpcError(`${method}: the WebSocket is not up`));
    const id = this.nextCallId++;
    this.calls++;
    this.opts.onCall?.(method);
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.inflight.delete(id);
        reject(new LotusRpcError(`${method}: no answer on the WebSocket in ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      this.inflight.set(id, { method, resolve, reject, timer });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), (err) => {
        if (!err) return;
        const p = this.inflight.get(id);
        if (!p) return;
        this.inflight.delete(id);
        clearTimeout(p.timer);
        p.reject(new LotusRpcError(`${method}: ${err.message}`));
      });
    });
  }

  /** An answer to a call(): resolved, or rejected with the node's error. */
  private answered(frame: { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } }): void {
    if (typeof frame.id !== 'number') return;
    const p = this.inflight.get(frame.id);
    if (!p) return;
    this.inflight.delete(frame.id);
    clearTimeout(p.timer);
    if (frame.error) {
      const code = typeof frame.error.code === 'number' ? frame.error.code : -1;
      p.reject(new LotusRpcError(`${p.method}: ${String(frame.error.message ?? 'error').slice(0, 300)}`, code));
    } else if (!('result' in frame)) p.reject(new LotusRpcError(`${p.method}: answer without result`));
    else p.resolve(frame.result);
  }

  /** Calls in flight fail as transport errors (the socket is gone): their callers go over HTTP. */
  private failInflight(why: string): void {
    for (const [id, p] of this.inflight) {
      this.inflight.delete(id);
      clearTimeout(p.timer);
      p.reject(new LotusRpcError(`${p.method}: ${why}`));
    }
  }

  stop(): void {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.drop('stopped', false);
  }

  private connect(index: number): void {
    if (!this.running) return;
    const endpoint = this.opts.endpoints[index]!;
    const shown = redactEndpoint(endpoint);
    let ws: WebSocket;
    try {
      ws = new WebSocket(notifyUrlOf(endpoint), {
        handshakeTimeout: this.opts.timeoutMs,
        maxPayload: MAX_FRAME,
        ...(this.opts.token ? { headers: { authorization: `Bearer ${this.opts.token}` } } : {}),
      });
    } catch (e) {
      this.failed(index, `${shown}: ${(e as Error).message}`);
      return;
    }
    this.ws = ws;
    const callId = 1;
    let chanId: number | undefined;
    let settled = false;
    const answerTimer = setTimeout(() => fail(`${shown}: no answer to ${CHAIN_NOTIFY} in ${this.opts.timeoutMs} ms`), this.opts.timeoutMs);
    answerTimer.unref();
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(answerTimer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      if (this.ws === ws) this.ws = undefined;
      if (this.subscribed) this.drop(why, true);
      else this.failed(index, why);
    };
    ws.on('error', (e) => fail(`${shown}: ${e.message}`));
    ws.on('close', (code) => fail(`${shown}: WebSocket closed (${code})`));
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      const status = res.statusCode ?? 0;
      fail(`${shown}: WebSocket upgrade refused (HTTP ${status || '?'})${status === 401 || status === 403 ? `: ${tokenAdvice(Boolean(this.opts.token), this.opts.tokenVariable)}` : ''}`);
    });
    ws.on('open', () => {
      this.calls++;
      this.opts.onCall?.(CHAIN_NOTIFY);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: callId, method: CHAIN_NOTIFY, params: [] }));
    });
    ws.on('message', (data, isBinary) => {
      let frame: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
      try {
        frame = JSON.parse((data as Buffer).toString('utf8')) as typeof frame;
        if (isBinary || typeof frame !== 'object' || frame === null) throw new Error('not a JSON object');
      } catch {
        fail(`${shown}: a frame that is not JSON-RPC`);
        return;
      }
      if (chanId === undefined) {
        if (frame.id !== callId) return;
        if (frame.error) {
          const code = typeof frame.error.code === 'number' ? frame.error.code : undefined;
          const message = String(frame.error.message ?? 'error').slice(0, 200);
          if (code === -32601) this.unsupported = true;
          const advice = /missing permission/i.test(message) ? ` (${tokenAdvice(Boolean(this.opts.token), this.opts.tokenVariable)})` : '';
          fail(`${shown}: ${CHAIN_NOTIFY} refused${code === -32601 ? ' (not offered by this node)' : ''}: ${message}${advice}`);
          return;
        }
        if (typeof frame.result !== 'number' || !Number.isSafeInteger(frame.result) || frame.result < 0) {
          fail(`${shown}: ${CHAIN_NOTIFY} answered without a channel id`);
          return;
        }
        chanId = frame.result;
        clearTimeout(answerTimer);
        this.subscribed = true;
        this.subscriptions++;
        this.endpointIndex = index;
        this.attempt = 0;
        this.lastProblem = undefined;
        this.armStall(() => fail(`${shown}: no head change in ${this.opts.stallMs} ms`));
        this.opts.logger.info({ endpoint: shown }, 'ChainNotify subscribed');
        this.opts.onState(true, `${CHAIN_NOTIFY} on ${shown}`);
        return;
      }
      if (frame.method === undefined) {
        this.answered(frame);
        return;
      }
      const params = Array.isArray(frame.params) ? frame.params : [];
      if (frame.method === CH_CLOSE && params[0] === chanId) {
        fail(`${shown}: the node closed the ${CHAIN_NOTIFY} channel`);
        return;
      }
      if (frame.method !== CH_VAL || params[0] !== chanId) return;
      let changes: HeadChange[];
      try {
        changes = parseHeadChanges(params[1]);
      } catch (e) {
        fail(`${shown}: ${(e as Error).message}`);
        return;
      }
      this.armStall(() => fail(`${shown}: no head change in ${this.opts.stallMs} ms`));
      this.opts.onChanges(changes);
    });
  }

  private armStall(onStall: () => void): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(onStall, this.opts.stallMs);
    this.stallTimer.unref();
  }

  /** This endpoint did not give a subscription: the next one, or a later round from the first. */
  private failed(index: number, why: string): void {
    this.lastProblem = why.slice(0, 400);
    if (!this.running) return;
    if (index + 1 < this.opts.endpoints.length) {
      this.connect(index + 1);
      return;
    }
    this.opts.logger.debug({ err: why }, 'ChainNotify unavailable: polling');
    this.retry();
  }

  private retry(): void {
    if (!this.running) return;
    // A node that answered "method not found" is asked again much later: it will not have grown
    // the method in seconds, and each try costs a handshake and a call.
    const backoff = Math.min(this.opts.retryMaxMs, this.opts.retryMinMs * 2 ** Math.min(this.attempt, 20));
    const delay = this.unsupported ? UNSUPPORTED_RETRY_FACTOR * this.opts.retryMaxMs : backoff;
    this.unsupported = false;
    this.attempt++;
    this.retryTimer = setTimeout(() => this.connect(0), delay);
  }

  /** An established subscription ended. */
  private drop(why: string, reconnect: boolean): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
    }
    this.failInflight(why);
    if (!this.subscribed) return;
    this.subscribed = false;
    this.lastProblem = why.slice(0, 400);
    this.opts.logger.warn({ err: why }, 'ChainNotify down: polling ChainHead until it is back');
    this.opts.onState(false, why);
    if (reconnect) this.retry();
  }
}
