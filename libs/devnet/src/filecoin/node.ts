// A simulated venus chain service speaking JSON-RPC 2.0 over HTTP (POST /rpc/v0, /rpc/v1) and
// WebSocket (same paths), answering the Filecoin.* methods the seed's charts show a venus-sealer
// calling (ChainHead, ChainGetTipSet, StateMinerProvingDeadline, …) and the message-sending ones
// (MpoolPush, MpoolPushMessage, StateSearchMsg). Every call must carry a bearer token the node
// issued (401 otherwise, as venus-auth does); batches are answered per element, notifications not.
// For the demo (`fleetvisor up`), tests and benchmarks: a real server on a real port.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { cidOf, NETWORK_VERSION, SimChain, type SimMiner } from './chain';
import { TokenIssuer, type TokenClaims, type TokenPerm } from './tokens';

export interface FilecoinNodeOptions {
  host?: string;
  port?: number;
  /** Miners and their sector counts (default t01000 with 2,048 sectors). */
  miners?: { id: string; sectors: number }[];
  /** Epoch length (default 30 s, Filecoin's). */
  epochMs?: number;
  /** Added to every answer (default 0). */
  latencyMs?: number;
  issuer?: TokenIssuer;
}

type RpcError = { code: number; message: string };
type Handler = (params: unknown[], who: TokenClaims) => unknown;

const PERM_ORDER: readonly TokenPerm[] = ['read', 'write', 'sign', 'admin'];

export class MethodError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface FilecoinNodeHandle {
  url: string;
  wsUrl: string;
  port: number;
  issuer: TokenIssuer;
  /** A token for a caller (venus-auth's token name is what proxies count callers by). */
  token(name: string, perm?: TokenPerm): string;
  /** Calls answered, by method (for tests). */
  readonly served: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

export async function startFilecoinNode(opts: FilecoinNodeOptions = {}): Promise<FilecoinNodeHandle> {
  const issuer = opts.issuer ?? new TokenIssuer();
  const epochMs = opts.epochMs ?? 30_000;
  const minerList = opts.miners ?? [{ id: 't01000', sectors: 2048 }];
  const miners = new Map<string, SimMiner>(minerList.map((m, i) => [m.id, { ...m, provingPeriodStart: (i * 997) % 2880 }]));
  // Genesis far enough back that heights look like a live network's.
  const chain = new SimChain(Date.now() - 3_000_000 * epochMs, epochMs, miners);
  const served = new Map<string, number>();
  let nonce = 0;

  const needMiner = (p: unknown[]): SimMiner => {
    const m = chain.miner(p[0]);
    if (!m) throw new MethodError(1, `actor not found: ${String(p[0])}`);
    return m;
  };
  const methods: Record<string, { perm: TokenPerm; fn: Handler }> = {
    'Filecoin.ChainHead': { perm: 'read', fn: () => chain.tipSet(chain.height()) },
    'Filecoin.ChainGetTipSet': { perm: 'read', fn: () => chain.tipSet(chain.height() - 1) },
    'Filecoin.ChainGetTipSetByHeight': { perm: 'read', fn: (p) => chain.tipSet(typeof p[0] === 'number' ? p[0] : chain.height()) },
    'Filecoin.ChainGetPath': { perm: 'read', fn: () => [{ Type: 'apply', Val: chain.tipSet(chain.height()) }] },
    'Filecoin.ChainGetBlockMessages': { perm: 'read', fn: () => ({ BlsMessages: [], SecpkMessages: [], Cids: [] }) },
    'Filecoin.ChainGetRandomnessFromBeacon': { perm: 'read', fn: (p) => Buffer.from(cidOf('beacon', JSON.stringify(p))['/']).subarray(0, 32).toString('base64') },
    'Filecoin.ChainGetRandomnessFromTickets': { perm: 'read', fn: (p) => Buffer.from(cidOf('ticket', JSON.stringify(p))['/']).subarray(0, 32).toString('base64') },
    'Filecoin.StateNetworkVersion': { perm: 'read', fn: () => NETWORK_VERSION },
    'Filecoin.StateMinerProvingDeadline': { perm: 'read', fn: (p) => chain.provingDeadline(needMiner(p), chain.height()) },
    'Filecoin.StateMinerInfo': {
      perm: 'read',
      fn: (p) => {
        const m = needMiner(p);
        return { Owner: m.id.replace(/^([ft])0/, '$13'), Worker: m.id.replace(/^([ft])0/, '$13'), ControlAddresses: [], PeerId: null, Multiaddrs: [], SectorSize: 34359738368, WindowPoStPartitionSectors: 2349, ConsensusFaultElapsed: -1 };
      },
    },
    'Filecoin.StateMinerPartitions': {
      perm: 'read',
      fn: (p) => {
        const m = needMiner(p);
        const dl = typeof p[1] === 'number' ? p[1] : 0;
        // One partition per deadline; bitfields as their sector counts (the RLE+ form is not simulated).
        const n = Math.floor(m.sectors / 48) + (dl < m.sectors % 48 ? 1 : 0);
        return n === 0 ? [] : [{ AllSectors: n, FaultySectors: 0, RecoveringSectors: 0, LiveSectors: n, ActiveSectors: n }];
      },
    },
    'Filecoin.StateSectorGetInfo': { perm: 'read', fn: (p) => chain.sectorInfo(needMiner(p), Number(p[1]), chain.height()) },
    'Filecoin.StateSectorExpiration': {
      perm: 'read',
      fn: (p) => {
        const info = chain.sectorInfo(needMiner(p), Number(p[1]), chain.height());
        if (!info) throw new MethodError(1, `sector ${String(p[1])} not found`);
        return { OnTime: info.Expiration, Early: 0 };
      },
    },
    'Filecoin.StateMinerSectors': { perm: 'read', fn: (p) => Array.from({ length: Math.min(needMiner(p).sectors, 100) }, (_, i) => chain.sectorInfo(needMiner(p), i, chain.height())) },
    'Filecoin.StateMinerActiveSectors': { perm: 'read', fn: (p) => Array.from({ length: Math.min(needMiner(p).sectors, 100) }, (_, i) => chain.sectorInfo(needMiner(p), i, chain.height())) },
    'Filecoin.StateSearchMsg': { perm: 'read', fn: (p) => ({ Message: p[1] ?? p[0], Receipt: { ExitCode: 0, Return: null, GasUsed: 1_000_000 }, ReturnDec: null, TipSet: chain.tipSet(chain.height() - 1).Cids, Height: chain.height() - 1 }) },
    'Filecoin.MpoolPush': { perm: 'write', fn: (p) => cidOf('msg', JSON.stringify(p[0] ?? null), ++nonce) },
    'Filecoin.MpoolPushMessage': {
      perm: 'sign',
      fn: (p) => {
        const msg = (p[0] ?? {}) as Record<string, unknown>;
        return { Message: { ...msg, Nonce: ++nonce }, Signature: { Type: 1, Data: Buffer.from(cidOf('sig', nonce)['/']).toString('base64') }, CID: cidOf('msg', nonce) };
      },
    },
  };

  const answer = (req: unknown, who: TokenClaims): object | undefined => {
    if (typeof req !== 'object' || req === null || Array.isArray(req)) return { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } };
    const r = req as { id?: unknown; method?: unknown; params?: unknown };
    const id = r.id ?? null;
    const notification = r.id === undefined;
    const reply = (body: { result: unknown } | { error: RpcError }) => (notification ? undefined : { jsonrpc: '2.0', id, ...body });
    const m = typeof r.method === 'string' ? methods[r.method] : undefined;
    if (!m) return reply({ error: { code: -32601, message: `method '${String(r.method)}' not found` } });
    if (PERM_ORDER.indexOf(who.perm) < PERM_ORDER.indexOf(m.perm)) return reply({ error: { code: 1, message: `missing permission to invoke '${String(r.method)}' (need '${m.perm}')` } });
    served.set(r.method as string, (served.get(r.method as string) ?? 0) + 1);
    try {
      return reply({ result: m.fn(Array.isArray(r.params) ? r.params : [], who) });
    } catch (e) {
      return reply({ error: { code: e instanceof MethodError ? e.code : -32603, message: (e as Error).message } });
    }
  };

  const handleText = (text: string, who: TokenClaims): string | undefined => {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } });
      const out = v.map((x) => answer(x, who)).filter((x) => x !== undefined);
      return out.length === 0 ? undefined : JSON.stringify(out);
    }
    const one = answer(v, who);
    return one === undefined ? undefined : JSON.stringify(one);
  };

  const authorize = (req: IncomingMessage): TokenClaims | undefined => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return m ? issuer.verify(m[1]!) : undefined;
  };
  const delay = (fn: () => void) => (opts.latencyMs ? setTimeout(fn, opts.latencyMs) : fn());

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || !/^\/rpc\/v[01]\/?$/.test(req.url ?? '')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const who = authorize(req);
      if (!who) {
        res.writeHead(401, { 'content-type': 'text/plain' }).end('JWT Verification failed\n');
        return;
      }
      const out = handleText(Buffer.concat(chunks).toString('utf8'), who);
      delay(() => {
        if (out === undefined) res.writeHead(204).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end(out);
      });
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const who = authorize(req);
    if (!who || !/^\/rpc\/v[01]\/?$/.test(req.url ?? '')) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const out = handleText((data as Buffer).toString('utf8'), who);
        if (out !== undefined) delay(() => ws.send(out));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host}:${port}/rpc/v1`,
    wsUrl: `ws://${host}:${port}/rpc/v1`,
    port,
    issuer,
    token: (name, perm = 'sign') => issuer.mint({ name, perm }),
    served,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
