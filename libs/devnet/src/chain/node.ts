// The local chain node: produces a block every `blockTimeMs` and serves CometBFT 0.38 JSON-RPC on
// one port: POST / (JSON-RPC 2.0, batches too), GET /<method>?args (URI form), WebSocket at
// /websocket (the same methods plus subscribe/unsubscribe), and the admin endpoint at /admin/*.
// Per block it renders each event once and writes the same bytes to every subscriber, so
// watching it costs little CPU.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { handleAdmin, type AdminTarget } from './admin';
import type { DevnetBlock, DevnetChain, DevnetChainOptions, DevnetRequestStats, LavaVersionParams, UpgradePlanParams } from './api';
import * as cj from './comet-json';
import { FaultSwitches, RequestCounter, type FaultState } from './faults';
import { ChainLedger, DEFAULT_VERSION, toDevnetBlock, type BlockRecord } from './ledger';
import { callMethod, internalError, parseSubscriptionQuery, RpcError, type RpcContext, type SubscriptionKind } from './rpc-methods';
import { BodyTooLarge, readBody, sendJson } from '../http-body';

export interface DevnetChainStartOptions extends DevnetChainOptions {
  /** Blocks kept for queries at a past height (default 10 000). */
  retainBlocks?: number;
  /** Serve /admin/* (default true). */
  admin?: boolean;
  /**
   * As CometBFT's `[storage] discard_abci_responses = true`: block results are not kept, so
   * `block_results` fails at every height (state, and so `abci_query` at a height, is kept).
   */
  discardAbciResponses?: boolean;
}

const MAX_BODY = 1 << 20;

interface Subscription {
  ws: WebSocket;
  id: unknown;
  query: string;
  kind: SubscriptionKind;
}

interface JsonRpcRequest {
  id: unknown;
  method: string;
  params: unknown;
}

type JsonRpcReply = { jsonrpc: '2.0'; id: unknown; result: unknown } | { jsonrpc: '2.0'; id: unknown; error: { code: number; message: string; data?: string } };

const errorReply = (id: unknown, e: RpcError): JsonRpcReply => ({
  jsonrpc: '2.0',
  id,
  error: { code: e.code, message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) },
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function connectableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

class DevnetChainNode implements DevnetChain, AdminTarget {
  readonly faults: FaultSwitches;
  rpcUrl = '';
  wsUrl = '';
  private readonly ledger: ChainLedger;
  private readonly counter = new RequestCounter();
  private readonly validator: cj.ValidatorIdentity;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly subscriptions = new Set<Subscription>();
  private readonly blockListeners = new Set<(b: DevnetBlock) => void>();
  private heightWaiters: { height: number; resolve(): void; reject(e: Error): void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextBlockAt = 0;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly chainId: string,
    private readonly host: string,
    private readonly port: number,
    readonly blockTimeMs: number,
    initialHeight: number,
    version: LavaVersionParams,
    retainBlocks: number,
    private readonly adminEnabled: boolean,
    private readonly discardAbciResponses: boolean,
  ) {
    this.ledger = new ChainLedger({ chainId, initialHeight, version, retainBlocks });
    this.validator = cj.validatorIdentity(chainId);
    this.faults = new FaultSwitches(() => this.dropAllSockets());
    this.server = createServer((req, res) => void this.onHttp(req, res));
    this.server.keepAliveTimeout = 65_000;
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_BODY });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket as Socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    this.rpcUrl = `http://${connectableHost(this.host)}:${port}`;
    this.wsUrl = `ws://${connectableHost(this.host)}:${port}/websocket`;
    // The first block exists before anyone can ask, as on a node that has caught up.
    this.produceBlock();
    this.nextBlockAt = Date.now() + this.blockTimeMs;
    this.schedule();
  }

  // ---- chain ----

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.produceBlock();
      const now = Date.now();
      this.nextBlockAt += this.blockTimeMs;
      // After a stall (a paused process, a busy machine) do not fire a burst of catch-up blocks.
      if (this.nextBlockAt < now) this.nextBlockAt = now + this.blockTimeMs;
      this.schedule();
    }, Math.max(0, this.nextBlockAt - Date.now()));
  }

  private produceBlock(): void {
    const { record, settled } = this.ledger.commit(new Date());
    this.broadcast(record);
    if (this.blockListeners.size > 0) {
      const block = toDevnetBlock(record);
      for (const l of [...this.blockListeners]) {
        try {
          l(block);
        } catch {
          // A listener's bug must not stop the chain.
        }
      }
    }
    for (const s of settled) s.resolve({ height: record.height });
    if (this.heightWaiters.length > 0) {
      const due = this.heightWaiters.filter((w) => w.height <= record.height);
      this.heightWaiters = this.heightWaiters.filter((w) => w.height > record.height);
      for (const w of due) w.resolve();
    }
  }

  private broadcast(r: BlockRecord): void {
    if (this.subscriptions.size === 0) return;
    const rendered = new Map<string, string>();
    for (const sub of this.subscriptions) {
      if (sub.ws.readyState !== sub.ws.OPEN) continue;
      let json = rendered.get(sub.query);
      if (json === undefined) {
        const result =
          sub.kind === 'NewBlock'
            ? cj.newBlockEvent(sub.query, r, this.chainId, this.validator)
            : sub.kind === 'NewBlockHeader'
              ? cj.newBlockHeaderEvent(sub.query, r, this.chainId, this.validator)
              : cj.newBlockEventsEvent(sub.query, r);
        json = JSON.stringify(result);
        rendered.set(sub.query, json);
      }
      sub.ws.send(`{"jsonrpc":"2.0","id":${JSON.stringify(sub.id) ?? 'null'},"result":${json}}`);
    }
  }

  height(): number {
    return this.ledger.height();
  }

  version(): LavaVersionParams {
    return this.ledger.currentVersion();
  }

  upgradePlan(): UpgradePlanParams | undefined {
    return this.ledger.currentPlan();
  }

  setVersion(v: LavaVersionParams): Promise<{ height: number }> {
    if (this.stopped) return Promise.reject(new Error('the devnet chain is stopped'));
    return this.ledger.enqueueVersion(v);
  }

  scheduleUpgrade(plan: UpgradePlanParams): Promise<{ height: number }> {
    if (this.stopped) return Promise.reject(new Error('the devnet chain is stopped'));
    return this.ledger.enqueuePlan(plan);
  }

  clearUpgrade(): Promise<{ height: number }> {
    if (this.stopped) return Promise.reject(new Error('the devnet chain is stopped'));
    return this.ledger.enqueuePlan(undefined);
  }

  faultState(): FaultState {
    return this.faults.snapshot();
  }

  stats(): DevnetRequestStats {
    return this.counter.stats();
  }

  resetStats(): void {
    this.counter.reset();
  }

  onBlock(listener: (block: DevnetBlock) => void): () => void {
    this.blockListeners.add(listener);
    return () => void this.blockListeners.delete(listener);
  }

  waitForHeight(height: number): Promise<void> {
    if (this.height() >= height) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error('the devnet chain is stopped'));
    return new Promise((resolve, reject) => this.heightWaiters.push({ height, resolve, reject }));
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const reason = new Error('the devnet chain is stopped');
    this.ledger.abandonPending(reason);
    for (const w of this.heightWaiters) w.reject(reason);
    this.heightWaiters = [];
    this.dropAllSockets();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- JSON-RPC ----

  private rpcContext(): RpcContext {
    return {
      chainId: this.chainId,
      rpcAddress: this.rpcUrl.replace(/^http:/, 'tcp:'),
      ledger: this.ledger,
      validator: this.validator,
      malformedParams: this.faults.paramsMalformed,
      discardAbciResponses: this.discardAbciResponses,
    };
  }

  /** Counts the request and applies the fault switches; returns an error reply if it must fail. */
  private async admit(req: JsonRpcRequest): Promise<JsonRpcReply | undefined> {
    const path = req.method === 'abci_query' ? abciPathOf(req.params) : undefined;
    this.counter.count(req.method, path);
    const delay = this.faults.delayFor(req.method);
    if (delay > 0) await sleep(delay);
    if (this.faults.takeFailure(req.method)) return errorReply(req.id, internalError('devnet fault: injected failure'));
    return undefined;
  }

  private answer(req: JsonRpcRequest): JsonRpcReply {
    try {
      return { jsonrpc: '2.0', id: req.id, result: callMethod(this.rpcContext(), req.method, req.params) };
    } catch (e) {
      if (e instanceof RpcError) return errorReply(req.id, e);
      return errorReply(req.id, internalError((e as Error).message));
    }
  }

  // ---- HTTP ----

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://devnet');
      if (url.pathname.startsWith('/admin/') && this.adminEnabled) {
        const raw = await readBody(req, MAX_BODY);
        let body: unknown;
        if (raw.length > 0) {
          try {
            body = JSON.parse(raw);
          } catch {
            return sendJson(res, 400, { error: 'the body is not valid JSON' });
          }
        }
        const out = await handleAdmin(this, req.method ?? 'GET', url.pathname, body);
        return sendJson(res, out.status, out.body);
      }
      if (req.method === 'POST' && (url.pathname === '/' || url.pathname === '')) return await this.onJsonRpcPost(req, res);
      if (req.method === 'GET' && url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('Fleetvisor devnet (CometBFT 0.38 JSON-RPC)\n/status\n/health\n/abci_info\n/block?height=_\n/block_results?height=_\n/abci_query?path=_&data=_&height=_&prove=_\n/websocket (subscribe, unsubscribe, unsubscribe_all)\n');
      }
      if (req.method === 'GET') return await this.onUriRequest(url, res);
      res.writeHead(405, { 'content-type': 'text/plain' });
      res.end('method not allowed\n');
    } catch (e) {
      if (!res.headersSent) sendJson(res, e instanceof BodyTooLarge ? 413 : 500, { error: (e as Error).message });
      else res.destroy();
    }
  }

  private async onJsonRpcPost(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req, MAX_BODY);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      return sendJson(res, 500, errorReply(-1, new RpcError(-32700, 'Parse error', `error unmarshaling request: ${(e as Error).message}`)));
    }
    const batch = Array.isArray(parsed);
    const items = batch ? (parsed as unknown[]) : [parsed];
    if (items.length === 0) return sendJson(res, 500, errorReply(-1, new RpcError(-32600, 'Invalid Request', 'empty batch')));
    let failed = false;
    const replies = await Promise.all(
      items.map(async (item): Promise<JsonRpcReply> => {
        const r = asRequest(item);
        if (r instanceof RpcError) return errorReply(idOf(item), r);
        if (r.method === 'subscribe' || r.method === 'unsubscribe' || r.method === 'unsubscribe_all') {
          this.counter.count(r.method);
          return errorReply(r.id, new RpcError(-32601, 'Method not found', `${r.method} is available over /websocket only`));
        }
        const fault = await this.admit(r);
        if (fault) {
          failed = true;
          return fault;
        }
        return this.answer(r);
      }),
    );
    if (this.stopped) return void res.destroy();
    sendJson(res, failed ? 503 : 200, batch ? replies : replies[0]);
  }

  private async onUriRequest(url: URL, res: ServerResponse): Promise<void> {
    const method = url.pathname.slice(1);
    const params: Record<string, unknown> = {};
    for (const [k, v] of url.searchParams) params[k] = uriValue(k, v);
    const r: JsonRpcRequest = { id: -1, method, params };
    if (method === 'subscribe' || method === 'unsubscribe' || method === 'unsubscribe_all') {
      this.counter.count(method);
      return sendJson(res, 200, errorReply(-1, new RpcError(-32601, 'Method not found', `${method} is available over /websocket only`)));
    }
    const fault = await this.admit(r);
    if (this.stopped) return void res.destroy();
    if (fault) return sendJson(res, 503, fault);
    sendJson(res, 200, this.answer(r));
  }

  // ---- WebSocket ----

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://devnet').pathname;
    if (path !== '/websocket' || this.faults.webSocketsDropped || this.stopped) {
      const status = path !== '/websocket' ? '404 Not Found' : '503 Service Unavailable';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onWebSocket(ws));
  }

  private onWebSocket(ws: WebSocket): void {
    const mine = new Map<string, Subscription>();
    ws.on('message', (data: RawData) => void this.onWsMessage(ws, mine, data));
    ws.on('close', () => {
      for (const s of mine.values()) this.subscriptions.delete(s);
      mine.clear();
    });
    ws.on('error', () => ws.terminate());
  }

  private async onWsMessage(ws: WebSocket, mine: Map<string, Subscription>, data: RawData): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawText(data));
    } catch (e) {
      return wsSend(ws, errorReply(-1, new RpcError(-32700, 'Parse error', `error unmarshaling request: ${(e as Error).message}`)));
    }
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      const r = asRequest(item);
      if (r instanceof RpcError) {
        wsSend(ws, errorReply(idOf(item), r));
        continue;
      }
      const fault = await this.admit(r);
      if (fault) {
        wsSend(ws, fault);
        continue;
      }
      wsSend(ws, this.answerWs(ws, mine, r));
    }
  }

  private answerWs(ws: WebSocket, mine: Map<string, Subscription>, r: JsonRpcRequest): JsonRpcReply {
    try {
      const params = r.params && typeof r.params === 'object' ? (Array.isArray(r.params) ? { query: r.params[0] } : (r.params as Record<string, unknown>)) : {};
      switch (r.method) {
        case 'subscribe': {
          const kind = parseSubscriptionQuery(params['query']);
          const query = params['query'] as string;
          if (mine.has(query)) throw internalError('failed to subscribe: already subscribed');
          const sub: Subscription = { ws, id: r.id, query, kind };
          mine.set(query, sub);
          this.subscriptions.add(sub);
          return { jsonrpc: '2.0', id: r.id, result: {} };
        }
        case 'unsubscribe': {
          const query = params['query'];
          const sub = typeof query === 'string' ? mine.get(query) : undefined;
          if (!sub) throw internalError('subscription not found');
          mine.delete(sub.query);
          this.subscriptions.delete(sub);
          return { jsonrpc: '2.0', id: r.id, result: {} };
        }
        case 'unsubscribe_all': {
          if (mine.size === 0) throw internalError('subscription not found');
          for (const s of mine.values()) this.subscriptions.delete(s);
          mine.clear();
          return { jsonrpc: '2.0', id: r.id, result: {} };
        }
        default:
          return this.answer(r);
      }
    } catch (e) {
      if (e instanceof RpcError) return errorReply(r.id, e);
      return errorReply(r.id, internalError((e as Error).message));
    }
  }

  private dropAllSockets(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.subscriptions.clear();
  }
}

// ---- helpers ----


function wsSend(ws: WebSocket, reply: JsonRpcReply): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function idOf(item: unknown): unknown {
  return item && typeof item === 'object' && 'id' in item ? (item as { id: unknown }).id : -1;
}

function asRequest(item: unknown): JsonRpcRequest | RpcError {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return new RpcError(-32600, 'Invalid Request', 'a request must be a JSON object');
  const o = item as Record<string, unknown>;
  if (typeof o['method'] !== 'string' || o['method'] === '') return new RpcError(-32600, 'Invalid Request', 'method must be a non-empty string');
  return { id: o['id'] ?? -1, method: o['method'], params: o['params'] };
}

function abciPathOf(params: unknown): string | undefined {
  if (Array.isArray(params)) return typeof params[0] === 'string' ? params[0] : undefined;
  if (params && typeof params === 'object') {
    const p = (params as Record<string, unknown>)['path'];
    return typeof p === 'string' ? p : undefined;
  }
  return undefined;
}

/** URI-form arguments: "quoted" strings, 0x-hex or quoted bytes for `data`, bare numbers/booleans. */
function uriValue(key: string, v: string): unknown {
  const quoted = /^"(.*)"$/s.exec(v);
  if (key === 'data') return quoted ? Buffer.from(quoted[1] ?? '', 'utf8').toString('hex') : v;
  if (quoted) return quoted[1];
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

export async function startDevnetChain(opts: DevnetChainStartOptions = {}): Promise<DevnetChain & AdminTarget> {
  const blockTimeMs = opts.blockTimeMs ?? 1_000;
  if (!Number.isFinite(blockTimeMs) || blockTimeMs < 10) throw new RangeError(`blockTimeMs must be at least 10, got ${blockTimeMs}`);
  const initialHeight = opts.initialHeight ?? 1;
  if (!Number.isSafeInteger(initialHeight) || initialHeight < 1) throw new RangeError(`initialHeight must be a positive integer, got ${initialHeight}`);
  const retainBlocks = opts.retainBlocks ?? 10_000;
  if (!Number.isSafeInteger(retainBlocks) || retainBlocks < 1) throw new RangeError(`retainBlocks must be a positive integer, got ${retainBlocks}`);
  const chainId = opts.chainId ?? 'lava-testnet-2';
  if (!/^[A-Za-z0-9._-]{1,50}$/.test(chainId)) throw new RangeError(`chainId must be 1-50 letters, digits, '.', '_' or '-', got "${chainId}"`);
  const node = new DevnetChainNode(
    chainId,
    opts.host ?? '127.0.0.1',
    opts.port ?? 0,
    blockTimeMs,
    initialHeight,
    opts.version ?? DEFAULT_VERSION,
    retainBlocks,
    opts.admin ?? true,
    opts.discardAbciResponses ?? false,
  );
  await node.listen();
  return node;
}
