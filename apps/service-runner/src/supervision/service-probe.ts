// A service's own health probe (services/<name>.yml `probe:`, or its kind's default), run while it
// runs: generic kinds rather than per-product code — TCP connect, HTTP GET answering 2xx, or a
// JSON-RPC 2.0 method answering a result. The venus components serve go-jsonrpc over HTTP at
// /rpc/v0: venus-wallet under the namespace "Filecoin" (Filecoin.Version needs a read token), damocles-manager
// under "Venus" (Venus.Version, no token). A token is read from its file at every probe (so a
// rotated token is picked up) and goes only into the Authorization header: never logged, never in
// a result.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { parseDuration } from '@fleetvisor/platform';
import { HomeError } from '../home/runner-home-errors';
import type { ServiceKind } from './attention';

export type ProbeSpec =
  | { type: 'tcp'; address: string; everyMs: number }
  | { type: 'http'; address: string; path: string; everyMs: number }
  | { type: 'json-rpc'; address: string; path: string; method: string; tokenFile?: string; everyMs: number };

export interface ProbeResult {
  ok: boolean;
  detail?: string;
}

export const DEFAULT_PROBE_EVERY_MS = 10_000;
const PROBE_TIMEOUT_MS = 2_000;

/** Defaults per kind, from upstream: venus-wallet listens on 127.0.0.1:5678 (config.toml API.ListenAddress), damocles-manager on :1789. */
export const KIND_PROBE_DEFAULTS: Partial<Record<ServiceKind, { address: string; path: string; method: string }>> = {
  'venus-wallet': { address: '127.0.0.1:5678', path: '/rpc/v0', method: 'Filecoin.Version' },
  'damocles-manager': { address: '127.0.0.1:1789', path: '/rpc/v0', method: 'Venus.Version' },
  'venus-sealer': { address: '127.0.0.1:2345', path: '/rpc/v0', method: 'Filecoin.Version' },
};

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([1-9][0-9]{0,4})$/;
const METHOD = /^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$/;

/** What the probe asks, for status lines (never the token). */
export function describeProbe(p: ProbeSpec): string {
  if (p.type === 'tcp') return `tcp ${p.address}`;
  if (p.type === 'http') return `http GET ${p.address}${p.path}`;
  return `json-rpc ${p.method} on ${p.address}${p.path}`;
}

/**
 * `probe:` of a service definition. `{ type: tcp|http|json-rpc, address, path, method, token-file,
 * every }`; for a venus kind every key has a default (json-rpc on the component's default address),
 * and `probe: none` turns it off. Undefined: no probe.
 */
export function parseProbe(v: unknown, kind: ServiceKind | undefined, file: string, networkAddress?: string): ProbeSpec | undefined {
  const def = kind ? KIND_PROBE_DEFAULTS[kind] : undefined;
  if (v === 'none') return undefined;
  if (v === undefined || v === null) {
    if (!def) return undefined;
    v = {};
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new HomeError(`${file}: probe must be none or a mapping { type, address, path, method, token-file, every }`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['type', 'address', 'path', 'method', 'token-file', 'every'].includes(k)) throw new HomeError(`${file}: probe: unknown key ${k} (type, address, path, method, token-file, every)`);
  const type = o['type'] ?? (def ? 'json-rpc' : undefined);
  if (type !== 'tcp' && type !== 'http' && type !== 'json-rpc') throw new HomeError(`${file}: probe.type must be tcp, http or json-rpc`);
  const address = o['address'] ?? def?.address ?? networkAddress;
  if (typeof address !== 'string' || !HOST_PORT.test(address)) throw new HomeError(`${file}: probe.address must be host:port`);
  let everyMs = DEFAULT_PROBE_EVERY_MS;
  if (o['every'] !== undefined) {
    const d = typeof o['every'] === 'string' ? parseDuration(o['every']) : undefined;
    if (d === undefined || d < 100) throw new HomeError(`${file}: probe.every must be a duration of at least 100ms (10s, 1m)`);
    everyMs = d;
  }
  if (type === 'tcp') return { type, address, everyMs };
  const p = o['path'] ?? (type === 'json-rpc' ? (def?.path ?? '/rpc/v0') : '/');
  if (typeof p !== 'string' || !p.startsWith('/') || p.length > 200 || /\s/.test(p)) throw new HomeError(`${file}: probe.path must start with / (no spaces)`);
  if (type === 'http') return { type, address, path: p, everyMs };
  const method = o['method'] ?? def?.method;
  if (typeof method !== 'string' || !METHOD.test(method)) throw new HomeError(`${file}: probe.method must be a JSON-RPC method such as Filecoin.Version`);
  const tokenFile = o['token-file'];
  if (tokenFile !== undefined && (typeof tokenFile !== 'string' || !path.isAbsolute(tokenFile))) throw new HomeError(`${file}: probe.token-file must be an absolute path`);
  return { type, address, path: p, method, ...(tokenFile !== undefined ? { tokenFile } : {}), everyMs };
}

export function serializeProbe(p: ProbeSpec): Record<string, unknown> {
  return {
    type: p.type,
    address: p.address,
    ...(p.type !== 'tcp' ? { path: p.path } : {}),
    ...(p.type === 'json-rpc' ? { method: p.method, ...(p.tokenFile ? { 'token-file': p.tokenFile } : {}) } : {}),
    every: `${p.everyMs}ms`,
  };
}

/**
 * The API token in a token file: the token alone, or venus' `api-info` form `<token>:<multiaddr>`
 * (what `venus-wallet auth api-info --perm admin` prints).
 */
export function readToken(file: string): string {
  const text = readFileSync(file, 'utf8').trim();
  const i = text.indexOf(':/');
  const token = (i >= 0 ? text.slice(0, i) : text).trim();
  if (!token || /\s/.test(token)) throw new Error(`token file ${file} holds no token`);
  return token;
}

function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host === '0.0.0.0' || host === '' ? '127.0.0.1' : host, port: Number(addr.slice(i + 1)) };
}

export interface JsonRpcAnswer {
  result?: unknown;
  error?: { code?: number; message?: string };
}

/** One JSON-RPC 2.0 call over HTTP POST (no keep-alive: nothing pooled stays open to the service). */
export function jsonRpcCall(address: string, urlPath: string, method: string, params: unknown[], token: string | undefined, timeoutMs = PROBE_TIMEOUT_MS): Promise<JsonRpcAnswer> {
  const { host, port } = hostPort(address);
  const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path: urlPath,
        method: 'POST',
        timeout: timeoutMs,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < 64 * 1024) text += d;
        });
        res.on('end', () => {
          if ((res.statusCode ?? 500) === 401) return reject(new Error('HTTP 401: the API token was refused'));
          if ((res.statusCode ?? 500) >= 400) return reject(new Error(`HTTP ${res.statusCode}`));
          try {
            const a = JSON.parse(text) as JsonRpcAnswer;
            resolve(a);
          } catch {
            reject(new Error('the answer is not JSON-RPC'));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function httpGet(address: string, urlPath: string): Promise<number> {
  const { host, port } = hostPort(address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: urlPath, method: 'GET', timeout: PROBE_TIMEOUT_MS, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function tcpConnect(address: string): Promise<void> {
  const { host, port } = hostPort(address);
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    const t = setTimeout(() => s.destroy(new Error(`no connection within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve();
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

const short = (s: string): string => (s.length > 200 ? `${s.slice(0, 199)}…` : s);

/** Runs the probe once. Never throws; the detail never holds the token. */
export async function runProbe(p: ProbeSpec): Promise<ProbeResult> {
  try {
    if (p.type === 'tcp') {
      await tcpConnect(p.address);
      return { ok: true };
    }
    if (p.type === 'http') {
      const status = await httpGet(p.address, p.path);
      return status >= 200 && status < 300 ? { ok: true, detail: `HTTP ${status}` } : { ok: false, detail: `HTTP ${status}` };
    }
    const token = p.tokenFile ? readToken(p.tokenFile) : undefined;
    const a = await jsonRpcCall(p.address, p.path, p.method, [], token);
    if (a.error) return { ok: false, detail: short(`${p.method}: ${a.error.message ?? 'error'}`) };
    if (a.result === undefined) return { ok: false, detail: `${p.method}: no result` };
    const r = a.result as Record<string, unknown> | string;
    const version = typeof r === 'string' ? r : typeof r === 'object' && r !== null && typeof r['Version'] === 'string' ? r['Version'] : undefined;
    return { ok: true, ...(version ? { detail: short(`version ${version}`) } : {}) };
  } catch (e) {
    return { ok: false, detail: short((e as Error).message) };
  }
}
