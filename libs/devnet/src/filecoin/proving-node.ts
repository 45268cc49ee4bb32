// A simulated Lotus/venus full node for the proving watch: JSON-RPC 2.0 over HTTP (POST /rpc/v1,
// /rpc/v0) and WebSocket (the same paths) answering, in the upstream JSON shapes, Filecoin.ChainHead (TipSet {Cids, Blocks,
// Height}), StateMinerProvingDeadline (dline.Info), StateMinerDeadlines ([{PostSubmissions,
// DisputableProofCount}]), StateMinerPartitions ([{AllSectors, FaultySectors, RecoveringSectors,
// LiveSectors, ActiveSectors}]), StateMinerFaults, StateMinerRecoveries (bitfields as go-bitfield's
// JSON run lengths), StateSectorPartition (miner.SectorLocation {Deadline, Partition}) and a minimal
// StateMinerInfo. The tipset key argument is accepted as [] / null
// (head), a key of the current head, or a key of one of the last HISTORY heads (answered from the
// state as it was at that head, as a node does for a tipset the chain has moved past); older keys
// are refused as a node refuses a tipset it cannot load. Read methods need no token (a Lotus
// node gives anonymous callers the read permission) unless `tokens` is given: then, as Lotus's auth
// handler does, a bearer token that does not verify is refused with HTTP 401 (the WebSocket upgrade
// too), and a call without a token gets go-jsonrpc's "missing permission to invoke 'M' (need 'read')".
//
// Epochs advance on a timer (`epochMs`; 0 = only when told: POST /control {"action":"advance"}).
// The control endpoint (POST /control, JSON) injects trouble: {"action":"fault","miner","sectors"},
// {"action":"recover","miner","sectors"}, {"action":"miss","miner","deadline"}; GET /control answers
// the state. The handle offers the same in-process.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { BodyTooLarge, readBody, sendJson } from '../http-body';
import { bitfieldToJson } from './bitfield-json';
import { cidOf } from './chain';
import { MAINNET_PROVING, ProvingChain, type ProvingMinerSpec, type ProvingParams } from './proving-chain';
import type { TokenIssuer } from './tokens';

export interface ProvingNodeOptions {
  host?: string;
  port?: number;
  miners?: ProvingMinerSpec[];
  /** Epoch length (default 200 ms; 0: epochs advance only through the control endpoint). */
  epochMs?: number;
  /** Period shape (default mainnet's 48 × 60). */
  params?: Partial<ProvingParams>;
  /** Height at start (default 1,000,000). */
  startEpoch?: number;
  proveDelay?: number;
  /** WebSocket at start (default 'up'; see the control action `websocket`). */
  webSocket?: ProvingWebSocketState;
  /** Calls need a token this issuer signed (any permission includes read); unset: anonymous read. */
  tokens?: TokenIssuer;
}

export type ProvingWebSocketState = 'up' | 'down' | 'no-notify';

export interface ProvingNodeHandle {
  url: string;
  /** The same JSON-RPC over WebSocket (ws://host:port/rpc/v1). */
  wsUrl: string;
  port: number;
  chain: ProvingChain;
  /** Calls answered, by method. */
  readonly served: ReadonlyMap<string, number>;
  /** Calls answered in total. */
  calls(): number;
  /** Calls answered, by transport. */
  callsOver(): { http: number; ws: number };
  /** Called after each answered call, with its method (a test moves the chain at a chosen moment). */
  onAnswered: ((method: string) => void) | undefined;
  /** Open WebSocket connections and ChainNotify subscriptions now. */
  sockets(): { connections: number; subscriptions: number };
  /** See the control action `websocket`. */
  setWebSocket(state: ProvingWebSocketState): void;
  /** A revert of the head and an apply of a sibling tipset at the same height (ChainNotify only). */
  reorg(): void;
  /** Advance n epochs now. */
  advance(n?: number): void;
  /** Resolves once the head is at least `height`. */
  waitForHeight(height: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 1 << 20;
/** Heads before the current one whose state is kept for tipset-keyed reads. */
const HISTORY = 16;
const NOTIFY = 'Filecoin.ChainNotify';

export async function startProvingNode(opts: ProvingNodeOptions = {}): Promise<ProvingNodeHandle> {
  const params: ProvingParams = { ...MAINNET_PROVING, ...opts.params };
  const miners = opts.miners ?? [{ id: 't01000' }, { id: 't01001' }];
  const chain = new ProvingChain(params, miners, opts.startEpoch ?? 1_000_000, opts.proveDelay ?? 1);
  const genesisSec = Math.floor(Date.now() / 1000) - chain.height * 30;
  const served = new Map<string, number>();
  let total = 0;
  const over = { http: 0, ws: 0 };
  const heightWaiters: { height: number; resolve: () => void }[] = [];

  // A reorg replaces the head by a sibling: the head's block id carries how many times it was replaced.
  let headFork = 0;
  const blockCid = (h: number) => (h === chain.height && headFork > 0 ? cidOf('block', h, 'fork', headFork) : cidOf('block', h));
  const tipSet = (h: number) => ({
    Cids: [blockCid(h)],
    Blocks: [{ Miner: chain.minerIds()[h % Math.max(1, chain.minerIds().length)] ?? 't01000', Parents: [cidOf('block', h - 1)], ParentWeight: String(1000 + h * 10), Height: h, Timestamp: genesisSec + h * 30 }],
    Height: h,
  });
  const minerArg = (p: unknown[]): string => {
    if (!chain.has(p[0])) throw new RpcFailure(1, `resolution lookup failed (${String(p[0])}): actor not found`);
    return p[0] as string;
  };
  // State of the heads the chain has moved past, by block id (the newest last).
  const past = new Map<string, ProvingChain>();
  /** The chain state a tipset key names: the live chain for the head (or no key), a kept copy for a past head. */
  const stateAt = (v: unknown): ProvingChain => {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) return chain;
    const cid = Array.isArray(v) && v.length === 1 ? (v[0] as { '/'?: unknown } | null)?.['/'] : undefined;
    if (typeof cid === 'string') {
      if (cid === blockCid(chain.height)['/']) return chain;
      const then = past.get(cid);
      if (then) return then;
    }
    throw new RpcFailure(1, `loading tipset ${JSON.stringify(v).slice(0, 120)}: not found (the simulator keeps the last ${HISTORY} heads)`);
  };
  const deadlineArg = (v: unknown): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= params.periodDeadlines) throw new RpcFailure(1, `invalid deadline ${String(v)}`);
    return v;
  };

  const methods: Record<string, (p: unknown[]) => unknown> = {
    'Filecoin.ChainHead': () => tipSet(chain.height),
    'Filecoin.StateMinerProvingDeadline': (p) => {
      const id = minerArg(p);
      return stateAt(p[1]).deadline(id);
    },
    'Filecoin.StateMinerDeadlines': (p) => {
      const id = minerArg(p);
      const at = stateAt(p[1]);
      return Array.from({ length: params.periodDeadlines }, (_, d) => ({ PostSubmissions: bitfieldToJson(at.postSubmissions(id, d)), DisputableProofCount: 0 }));
    },
    'Filecoin.StateMinerPartitions': (p) => {
      const id = minerArg(p);
      const dl = deadlineArg(p[1]);
      const at = stateAt(p[2]);
      return Array.from({ length: at.partitionCount(id) }, (_, i) => {
        const s = at.partitionState(id, dl, i);
        const active = s.all.filter((x) => !s.faulty.includes(x));
        return {
          AllSectors: bitfieldToJson(s.all),
          FaultySectors: bitfieldToJson(s.faulty),
          RecoveringSectors: bitfieldToJson(s.recovering),
          LiveSectors: bitfieldToJson(s.all),
          ActiveSectors: bitfieldToJson(active),
        };
      });
    },
    'Filecoin.StateMinerFaults': (p) => {
      const id = minerArg(p);
      return bitfieldToJson(stateAt(p[1]).faults(id));
    },
    'Filecoin.StateMinerRecoveries': (p) => {
      const id = minerArg(p);
      return bitfieldToJson(stateAt(p[1]).recoveries(id));
    },
    'Filecoin.StateSectorPartition': (p) => {
      const id = minerArg(p);
      const where = typeof p[1] === 'number' ? stateAt(p[2]).locate(id, p[1]) : undefined;
      if (!where) throw new RpcFailure(1, `sector ${String(p[1])} of ${id} not found in any partition`);
      return { Deadline: where.deadline, Partition: where.partition };
    },
    'Filecoin.StateMinerInfo': (p) => {
      const id = minerArg(p);
      stateAt(p[1]);
      const key = id.replace(/^([ft])0/, '$13');
      return { Owner: key, Worker: key, SectorSize: chain.sectorSize(id), WindowPoStPartitionSectors: 2349 };
    },
  };

  /** undefined: no Authorization header; false: a token that does not verify; true: may read. */
  const authOf = (req: IncomingMessage): boolean | undefined => {
    if (!opts.tokens) return true;
    const h = req.headers.authorization;
    if (h === undefined) return undefined;
    const m = /^Bearer (.+)$/.exec(h);
    return m !== null && opts.tokens.verify(m[1]!) !== undefined;
  };
  const missingPermission = (id: unknown, method: unknown): object => ({ jsonrpc: '2.0', id, error: { code: 1, message: `missing permission to invoke '${String(method)}' (need 'read')` } });

  const answer = (req: unknown, transport: 'http' | 'ws', mayRead: boolean): object => {
    const r = (typeof req === 'object' && req !== null ? req : {}) as { id?: unknown; method?: unknown; params?: unknown };
    const id = r.id ?? null;
    if (!mayRead) return missingPermission(id, r.method);
    if (r.method === NOTIFY) return { jsonrpc: '2.0', id, error: { code: -32601, message: `method '${NOTIFY}' not supported in this mode (no out channel support)` } };
    const fn = typeof r.method === 'string' ? methods[r.method] : undefined;
    if (!fn) return { jsonrpc: '2.0', id, error: { code: -32601, message: `method '${String(r.method)}' not found` } };
    served.set(r.method as string, (served.get(r.method as string) ?? 0) + 1);
    total++;
    over[transport]++;
    try {
      return { jsonrpc: '2.0', id, result: fn(Array.isArray(r.params) ? r.params : []) };
    } catch (e) {
      return { jsonrpc: '2.0', id, error: { code: e instanceof RpcFailure ? e.code : -32603, message: (e as Error).message } };
    } finally {
      handle.onAnswered?.(r.method as string);
    }
  };

  // ChainNotify subscriptions, by socket: call id -> channel id.
  interface Subscription {
    ws: WebSocket;
    callId: unknown;
    chanId: number;
  }
  const subscriptions = new Set<Subscription>();
  let wsState: ProvingWebSocketState = opts.webSocket ?? 'up';
  const notify = (sub: Subscription, changes: { Type: 'current' | 'apply' | 'revert'; Val: unknown }[]): void => {
    if (sub.ws.readyState === sub.ws.OPEN) sub.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'xrpc.ch.val', params: [sub.chanId, changes] }));
  };

  const advance = (n = 1): void => {
    for (let i = 0; i < n; i++) {
      past.set(blockCid(chain.height)['/'], chain.snapshot());
      for (const k of past.keys()) {
        if (past.size <= HISTORY) break;
        past.delete(k);
      }
      chain.step();
      headFork = 0;
      const head = tipSet(chain.height);
      for (const sub of subscriptions) notify(sub, [{ Type: 'apply', Val: head }]);
    }
    for (let i = heightWaiters.length - 1; i >= 0; i--) {
      if (chain.height >= heightWaiters[i]!.height) heightWaiters.splice(i, 1)[0]!.resolve();
    }
  };

  const control = (body: Record<string, unknown>): unknown => {
    const miner = String(body['miner'] ?? '');
    const sectors = Array.isArray(body['sectors']) ? body['sectors'].map(Number) : [];
    switch (body['action']) {
      case 'fault':
        chain.declareFaults(miner, sectors);
        break;
      case 'recover':
        chain.declareRecoveries(miner, sectors);
        break;
      case 'miss':
        chain.missDeadline(miner, Number(body['deadline']));
        break;
      case 'advance':
        advance(typeof body['epochs'] === 'number' ? body['epochs'] : 1);
        break;
      case 'websocket': {
        const st = body['state'];
        if (st !== 'up' && st !== 'down' && st !== 'no-notify') throw new Error('websocket state must be up, down or no-notify');
        setWebSocket(st);
        break;
      }
      case 'reorg':
        reorg();
        break;
      default:
        throw new Error(`unknown action ${JSON.stringify(body['action'])} (fault, recover, miss, advance, websocket, reorg)`);
    }
    return state();
  };
  const reorg = (): void => {
    const old = tipSet(chain.height);
    headFork++;
    const sibling = tipSet(chain.height);
    for (const sub of subscriptions) notify(sub, [{ Type: 'revert', Val: old }, { Type: 'apply', Val: sibling }]);
  };
  const setWebSocket = (st: ProvingWebSocketState): void => {
    wsState = st;
    // Sockets open before the change would keep a behaviour the node no longer has.
    if (st !== 'up') {
      for (const c of wss.clients) c.terminate();
      subscriptions.clear();
    }
  };
  const state = () => ({
    height: chain.height,
    websocket: wsState,
    miners: chain.minerIds().map((id) => ({ id, deadline: chain.deadline(id), faults: chain.faults(id), recoveries: chain.recoveries(id), sectors: chain.sectorCount(id) })),
  });

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path === '/control') return sendJson(res, 200, state());
    if (req.method !== 'POST' || !(/^\/rpc\/v[01]\/?$/.test(path) || path === '/control')) return sendJson(res, 404, { error: 'not found' });
    const auth = path === '/control' ? true : authOf(req);
    if (auth === false) {
      res.writeHead(401).end('JWT Verification failed');
      return;
    }
    readBody(req, MAX_BODY).then(
      (text) => {
        let v: unknown;
        try {
          v = JSON.parse(text);
        } catch {
          return sendJson(res, path === '/control' ? 400 : 200, path === '/control' ? { error: 'invalid JSON' } : { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
        }
        if (path === '/control') {
          try {
            return sendJson(res, 200, control((v ?? {}) as Record<string, unknown>));
          } catch (e) {
            return sendJson(res, 400, { error: (e as Error).message });
          }
        }
        return sendJson(res, 200, Array.isArray(v) ? v.map((x) => answer(x, 'http', auth === true)) : answer(v, 'http', auth === true));
      },
      (e: unknown) => sendJson(res, e instanceof BodyTooLarge ? 413 : 400, { error: (e as Error).message }),
    );
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
  server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (wsState === 'down' || !/^\/rpc\/v[01]\/?$/.test(path)) {
      socket.end(`HTTP/1.1 ${wsState === 'down' ? '503 Service Unavailable' : '404 Not Found'}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    const auth = authOf(req);
    if (auth === false) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      let nextChan = 1;
      ws.on('close', () => {
        for (const sub of subscriptions) if (sub.ws === ws) subscriptions.delete(sub);
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let v: unknown;
        try {
          v = JSON.parse((data as Buffer).toString('utf8'));
        } catch {
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } }));
          return;
        }
        const r = (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {}) as { id?: unknown; method?: unknown; params?: unknown };
        if (r.method === 'xrpc.cancel') {
          const callId = Array.isArray(r.params) ? r.params[0] : undefined;
          for (const sub of subscriptions) {
            if (sub.ws !== ws || sub.callId !== callId) continue;
            subscriptions.delete(sub);
            ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'xrpc.ch.close', params: [sub.chanId] }));
          }
          return;
        }
        if (auth !== true && r.method !== undefined) {
          ws.send(JSON.stringify(missingPermission(r.id ?? null, r.method)));
          return;
        }
        if (r.method === NOTIFY && wsState === 'up' && r.id !== undefined && r.id !== null) {
          served.set(NOTIFY, (served.get(NOTIFY) ?? 0) + 1);
          total++;
          over.ws++;
          const sub: Subscription = { ws, callId: r.id, chanId: nextChan++ };
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: r.id, result: sub.chanId }));
          subscriptions.add(sub);
          notify(sub, [{ Type: 'current', Val: tipSet(chain.height) }]);
          return;
        }
        if (r.method === NOTIFY) {
          ws.send(JSON.stringify({ jsonrpc: '2.0', id: r.id ?? null, error: { code: -32601, message: `method '${NOTIFY}' not found` } }));
          return;
        }
        ws.send(JSON.stringify(Array.isArray(v) ? v.map((x) => answer(x, 'ws', auth === true)) : answer(v, 'ws', auth === true)));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const epochMs = opts.epochMs ?? 200;
  const timer = epochMs > 0 ? setInterval(() => advance(1), epochMs) : undefined;
  timer?.unref();
  const port = (server.address() as { port: number }).port;
  const handle: ProvingNodeHandle = {
    onAnswered: undefined,
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/rpc/v1`,
    wsUrl: `ws://${opts.host ?? '127.0.0.1'}:${port}/rpc/v1`,
    port,
    sockets: () => ({ connections: wss.clients.size, subscriptions: subscriptions.size }),
    setWebSocket,
    reorg,
    chain,
    served,
    calls: () => total,
    callsOver: () => ({ ...over }),
    advance,
    waitForHeight: (height, timeoutMs = 10_000) =>
      chain.height >= height
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const t = setTimeout(() => reject(new Error(`height ${height} not reached in ${timeoutMs} ms (at ${chain.height})`)), timeoutMs);
            heightWaiters.push({ height, resolve: () => (clearTimeout(t), resolve()) });
          }),
    close: async () => {
      if (timer) clearInterval(timer);
      for (const c of wss.clients) c.terminate();
      subscriptions.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return handle;
}
