// A JSON-RPC 2.0 server over HTTP that answers like damocles-worker's admin API (namespace
// `VenusWorker`, damocles-worker/src/rpc/worker/mod.rs, served by sealing/service.rs), backed by a
// SimulatedWorker: so bridge mode talks to a real HTTP JSON-RPC endpoint in tests and the demo.
//
//   VenusWorker.WorkerList    []                 -> WorkerInfo[]  (damocles' JSON shape)
//   VenusWorker.WorkerPause   [index]            -> bool
//   VenusWorker.WorkerResume  [index, set_to?]   -> bool          (set_to: state name or null)
//   VenusWorker.WorkerVersion []                 -> string
//
// Like damocles, an unknown index is error -32602 (invalid params) "worker #N not found". Unlike
// damocles, a resume state outside the thread's plan is refused (-32602, listing the valid ones).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SealingWorkerError, type SimulatedWorker } from './simulated-worker';
import { readBody, sendJson } from '../http-body';

export const VENUS_WORKER_NAMESPACE = 'VenusWorker';
/** damocles-worker's default admin port (DEFAULT_WORKER_SERVER_PORT). */
export const DAMOCLES_WORKER_DEFAULT_PORT = 17890;

export const JsonRpcErrorCodes = { parse: -32700, invalidRequest: -32600, methodNotFound: -32601, invalidParams: -32602, internal: -32603 } as const;

export interface VenusWorkerRpcServerOptions {
  worker: SimulatedWorker;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 = a free port. */
  port?: number;
}

export interface VenusWorkerRpcServer {
  /** http://host:port/ — what damocles-manager connects to (`http://<dest>/`). */
  readonly url: string;
  /** host:port, the worker's `dest`. */
  readonly dest: string;
  readonly port: number;
  /** Requests answered so far (tests use it to see that the bridge polls). */
  readonly requests: number;
  close(): Promise<void>;
}

type JsonRpcId = string | number | null;
interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result?: unknown;
  error?: { code: number; message: string };
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 1024 * 1024;

function usize(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new RpcError(JsonRpcErrorCodes.invalidParams, `Invalid params: ${what} must be an unsigned integer, got ${JSON.stringify(v)}`);
  return v;
}

function params(raw: unknown, min: number, max: number): unknown[] {
  const p = raw === undefined ? [] : raw;
  if (!Array.isArray(p) || p.length < min || p.length > max) {
    throw new RpcError(JsonRpcErrorCodes.invalidParams, `Invalid params: expected an array of ${min === max ? min : `${min} to ${max}`} values`);
  }
  return p;
}

function call(worker: SimulatedWorker, method: string, rawParams: unknown): unknown {
  try {
    switch (method) {
      case `${VENUS_WORKER_NAMESPACE}.WorkerList`:
        params(rawParams, 0, 0);
        return worker.list();
      case `${VENUS_WORKER_NAMESPACE}.WorkerPause`: {
        const [index] = params(rawParams, 1, 1);
        return worker.pause(usize(index, 'index'));
      }
      case `${VENUS_WORKER_NAMESPACE}.WorkerResume`: {
        const [index, setTo] = params(rawParams, 1, 2);
        if (setTo !== undefined && setTo !== null && typeof setTo !== 'string') throw new RpcError(JsonRpcErrorCodes.invalidParams, 'Invalid params: set_to must be a string or null');
        return worker.resume(usize(index, 'index'), setTo ?? null);
      }
      case `${VENUS_WORKER_NAMESPACE}.WorkerVersion`:
        params(rawParams, 0, 0);
        return worker.version;
      default:
        throw new RpcError(JsonRpcErrorCodes.methodNotFound, 'Method not found');
    }
  } catch (e) {
    if (e instanceof SealingWorkerError) throw new RpcError(JsonRpcErrorCodes.invalidParams, e.message);
    throw e;
  }
}

function answer(worker: SimulatedWorker, req: unknown): JsonRpcResponse | undefined {
  if (typeof req !== 'object' || req === null || Array.isArray(req)) {
    return { jsonrpc: '2.0', id: null, error: { code: JsonRpcErrorCodes.invalidRequest, message: 'Invalid request' } };
  }
  const r = req as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  const id: JsonRpcId = typeof r.id === 'string' || typeof r.id === 'number' ? r.id : null;
  if (r.jsonrpc !== '2.0' || typeof r.method !== 'string') return { jsonrpc: '2.0', id, error: { code: JsonRpcErrorCodes.invalidRequest, message: 'Invalid request' } };
  const notification = !('id' in r);
  try {
    const result = call(worker, r.method, r.params);
    return notification ? undefined : { jsonrpc: '2.0', id, result };
  } catch (e) {
    if (notification) return undefined;
    if (e instanceof RpcError) return { jsonrpc: '2.0', id, error: { code: e.code, message: e.message } };
    return { jsonrpc: '2.0', id, error: { code: JsonRpcErrorCodes.internal, message: e instanceof Error ? e.message : String(e) } };
  }
}

export async function startVenusWorkerRpcServer(opts: VenusWorkerRpcServerOptions): Promise<VenusWorkerRpcServer> {
  const host = opts.host ?? '127.0.0.1';
  let requests = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    readBody(req, MAX_BODY).then(
      (text) => {
        requests++;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: JsonRpcErrorCodes.parse, message: 'Parse error' } });
          return;
        }
        if (Array.isArray(parsed)) {
          const out = parsed.map((r) => answer(opts.worker, r)).filter((r): r is JsonRpcResponse => r !== undefined);
          if (out.length === 0) res.writeHead(204).end();
          else sendJson(res, 200, out);
          return;
        }
        const out = answer(opts.worker, parsed);
        if (out === undefined) res.writeHead(204).end();
        else sendJson(res, 200, out);
      },
      () => {
        if (!res.headersSent) res.writeHead(413).end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const dest = `${host}:${port}`;
  return {
    url: `http://${dest}/`,
    dest,
    port,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
