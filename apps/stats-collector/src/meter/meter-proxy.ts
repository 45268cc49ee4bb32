// The metering proxy: JSON-RPC 2.0 over HTTP and WebSocket, forwarded unchanged, counted.
// HTTP: the request is read whole (its methods are needed), sent upstream with the same method,
// path and headers (hop-by-hop ones aside); the response's status, headers and body bytes go back
// as they come, chunk by chunk, and are kept aside to find the errors once it has ended. A call
// that gets no answer from upstream is answered 502 and counted as a transport error. The upstream
// side is undici's connection pool: it costs about a fifth less CPU per call than node:http's
// client (docs/benchmarks.md), and the meter's throughput is bound by its CPU.
// WebSocket: one upstream socket per client socket, opened with the same path and headers;
// every message goes across with its opcode (text/binary) and payload, in order; requests are
// timed from the client's message to the upstream's answer with the same id.
// Counting is in memory (MeterCounter) and never waits on anything: a call costs the parse of its
// request and a scan of its answer.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '@fleetvisor/platform';
import { callerOf, type CallerSource } from './caller';
import { responseOutcomes, scanRequest, type RequestScan } from './jsonrpc-scan';
import type { MeterCounter } from './meter-counter';

export interface MeterProxyOptions {
  upstream: URL;
  caller: CallerSource;
  counter: MeterCounter;
  logger: Logger;
  /** Largest request body read, in bytes (default 16 MiB); a larger one is refused with 413. */
  maxRequestBytes?: number;
  clock?: () => number;
}

// Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection, not to the message.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/**
 * A raw header list (name, value, name, value, … as received, names in their own case, repeated
 * fields kept apart) without the hop-by-hop fields and the names in `drop` (lower case). A flat
 * list goes to http.request and writeHead as it is: nothing is rebuilt or re-validated per call.
 */
function rawHeadersWithout(raw: readonly string[], drop?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || drop?.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/**
 * Set by the proxy itself on the upstream request (host from the upstream URL, the length of the
 * body read), or answered by it: `expect: 100-continue` is answered by the meter's server, which
 * reads the whole body before calling upstream.
 */
const REQUEST_OWN = new Set(['host', 'content-length', 'expect']);

/** A response's raw header list (names in the upstream's case) without hop-by-hop fields. */
function responseHeaders(controller: Dispatcher.DispatchController, parsed: http.IncomingHttpHeaders): string[] {
  const raw = controller.rawHeaders;
  if (Array.isArray(raw)) return rawHeadersWithout(raw.map((h) => (typeof h === 'string' ? h : h.toString('latin1'))));
  const out: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push(name, v);
  }
  return out;
}

export class MeterProxy {
  private readonly server: http.Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly pool: Pool;
  private readonly maxRequestBytes: number;
  private readonly clock: () => number;
  private readonly sockets = new Set<WebSocket>();
  /** Caller by Authorization (or caller header) value: a component sends the same token every call. */
  private readonly callers = new Map<string, string>();

  constructor(private readonly opts: MeterProxyOptions) {
    const u = opts.upstream;
    const httpProtocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
    // Idle connections are kept undici's default few seconds (or what the upstream's Keep-Alive
    // header says): a call is never re-sent (it may not be idempotent), so reusing a connection the
    // upstream has just closed would fail a call.
    this.pool = new Pool(`${httpProtocol}//${u.host}`, { connections: 256 });
    this.maxRequestBytes = opts.maxRequestBytes ?? 16 * 1024 * 1024;
    this.clock = opts.clock ?? Date.now;
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 65_000;
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const a = this.server.address() as { address: string; port: number };
        resolve({ host: a.address, port: a.port });
      });
    });
  }

  private callerFor(headers: http.IncomingHttpHeaders): string {
    const src = this.opts.caller;
    const raw = src.kind === 'header' ? headers[src.header.toLowerCase()] : headers.authorization;
    const key = Array.isArray(raw) ? raw.join(',') : raw;
    if (key === undefined) return callerOf(headers, src);
    let c = this.callers.get(key);
    if (c === undefined) {
      c = callerOf(headers, src);
      // Bounded: tokens are few; a flood of distinct ones only costs decoding again.
      if (this.callers.size >= 10_000) this.callers.clear();
      this.callers.set(key, c);
    }
    return c;
  }

  private count(caller: string, scan: RequestScan, outcomes: readonly ('ok' | 'error' | 'transport')[], started: number): void {
    const now = this.clock();
    const latency = now - started;
    for (let i = 0; i < scan.calls.length; i++) this.opts.counter.record(caller, scan.calls[i]!.method, outcomes[i] ?? outcomes[0]!, latency, now);
  }

  private upstreamPath(path: string | undefined): string {
    const base = this.opts.upstream.pathname.replace(/\/$/, '');
    // An upstream URL with a path (http://node:3453/rpc/v1) is where every call goes; without one, the client's path is kept.
    return base.length > 0 ? `${base}${this.opts.upstream.search}` : (path ?? '/');
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = this.clock();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > this.maxRequestBytes) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413, { 'content-type': 'text/plain' }).end(`request body above ${this.maxRequestBytes} bytes\n`);
        return;
      }
      const body = Buffer.concat(chunks, size);
      const caller = this.callerFor(req.headers);
      const scan = req.method === 'POST' ? scanRequest(body) : undefined;
      const got: Buffer[] = [];
      let status = 0;
      let upstreamController: Dispatcher.DispatchController | undefined;
      // The client went away before the answer ended: the upstream call is dropped too.
      res.once('close', () => {
        if (!res.writableFinished) upstreamController?.abort(new Error('the client closed the connection'));
      });
      this.pool.dispatch(
        {
          method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
          path: this.upstreamPath(req.url),
          headers: rawHeadersWithout(req.rawHeaders, REQUEST_OWN),
          body,
        },
        {
          onRequestStart: (controller) => {
            upstreamController = controller;
          },
          onResponseStart: (controller, statusCode, headers, statusMessage) => {
            // An informational answer is not the answer: the final one follows. Early Hints go on
            // to the client (its 100 Continue was the meter's own, the body already read).
            if (statusCode < 200) {
              if (statusCode === 103 && !res.headersSent) res.writeEarlyHints(headers as Record<string, string | string[]>);
              return;
            }
            status = statusCode;
            res.writeHead(statusCode, statusMessage ?? '', responseHeaders(controller, headers));
          },
          onResponseData: (controller, chunk) => {
            if (scan) got.push(chunk);
            // A slow client holds the upstream back instead of the answer piling up here.
            if (!res.write(chunk)) {
              controller.pause();
              res.once('drain', () => controller.resume());
            }
          },
          onResponseEnd: () => {
            res.end();
            if (scan) {
              const answer = got.length === 1 ? got[0]! : Buffer.concat(got);
              this.count(caller, scan, status >= 200 && status < 300 ? responseOutcomes(scan, answer) : scan.calls.map(() => 'error'), started);
            }
          },
          onResponseError: (_controller, e) => {
            // No answer, or one cut off before its end: the client did not get it whole either.
            if (scan) this.count(caller, scan, scan.calls.map(() => 'transport'), started);
            if (res.destroyed) return;
            if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream unreachable: ${e.message}\n`);
            else res.destroy();
          },
        },
      );
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const caller = this.callerFor(req.headers);
    const u = this.opts.upstream;
    const wsProto = u.protocol === 'https:' || u.protocol === 'wss:' ? 'wss:' : 'ws:';
    const target = `${wsProto}//${u.host}${this.upstreamPath(req.url)}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k) || k === 'host' || k.startsWith('sec-websocket-')) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const upstream = new WebSocket(target, { headers, perMessageDeflate: false });
    upstream.once('unexpected-response', (_r, upRes) => {
      socket.end(`HTTP/1.1 ${upRes.statusCode ?? 502} ${upRes.statusMessage ?? 'Bad Gateway'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      upstream.terminate();
    });
    upstream.once('error', (e) => {
      if (upstream.readyState !== WebSocket.OPEN && !socket.destroyed) socket.end(`HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nupstream unreachable: ${e.message}\n`);
    });
    upstream.once('open', () => {
      this.wss.handleUpgrade(req, socket, head, (client) => this.relay(client, upstream, caller));
    });
  }

  private relay(client: WebSocket, upstream: WebSocket, caller: string): void {
    this.sockets.add(client);
    // Requests in flight on this socket: id -> method and start time.
    const pending = new Map<string, { method: string; started: number }>();
    client.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        const scan = scanRequest(data as Buffer);
        const now = this.clock();
        for (const c of scan.calls) if (c.id !== undefined) pending.set(c.id, { method: c.method, started: now });
      }
      upstream.send(data, { binary: isBinary });
    });
    upstream.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary && pending.size > 0) this.countWsAnswer(data as Buffer, pending, caller);
      client.send(data, { binary: isBinary });
    });
    const closeBoth = (code: number, reason: Buffer) => {
      // 1005/1006 cannot be sent; they mean "no code" / "gone".
      const c = code === 1005 || code === 1006 ? 1000 : code;
      for (const s of [client, upstream]) if (s.readyState === WebSocket.OPEN) s.close(c, reason);
      const now = this.clock();
      for (const p of pending.values()) this.opts.counter.record(caller, p.method, 'transport', now - p.started, now);
      pending.clear();
      this.sockets.delete(client);
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', () => upstream.terminate());
    upstream.on('error', () => client.terminate());
  }

  private countWsAnswer(data: Buffer, pending: Map<string, { method: string; started: number }>, caller: string): void {
    let v: unknown;
    try {
      v = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    const now = this.clock();
    for (const r of Array.isArray(v) ? v : [v]) {
      if (typeof r !== 'object' || r === null) continue;
      const o = r as { id?: unknown; error?: unknown; method?: unknown };
      // A server-sent notification (a subscription's update) carries a method and no id: not an answer.
      if (o.id === undefined || o.id === null) continue;
      const key = JSON.stringify(o.id);
      const p = pending.get(key);
      if (!p) continue;
      pending.delete(key);
      this.opts.counter.record(caller, p.method, o.error === undefined ? 'ok' : 'error', now - p.started, now);
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    await this.pool.destroy();
  }
}
