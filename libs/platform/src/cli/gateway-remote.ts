// A command line asking a remote fleet through its REST gateway (`--url`, docs/gateway.md): the
// options, where the token comes from (--token, else FLEETVISOR_TOKEN, else
// <config home>/fleetvisor/gateway.json, which must not be readable by others: mode 0600, like an
// ssh key), and one JSON call whose refusal (RFC 9457 problem+json) becomes a code and a message.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './cli-framework';

export const REMOTE_OPTIONS = {
  url: { type: 'string', description: 'ask a remote fleet through its REST gateway (e.g. https://fleet.example:8080) instead of the bus', placeholder: 'url' },
  token: { type: 'string', description: 'with --url: the gateway token (default FLEETVISOR_TOKEN, else ~/.config/fleetvisor/gateway.json)', placeholder: 'token' },
} as const;

export interface Remote {
  url: string;
  token: string;
}

export interface GatewayClientEnv {
  token: string | undefined;
  configHome: string;
}

export function gatewayConfigFile(configHome: string): string {
  return path.join(configHome, 'fleetvisor', 'gateway.json');
}

function tokenFromFile(file: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  if ((st.mode & 0o077) !== 0) throw new UsageError(`${file} holds a token and is readable by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${file}`);
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file} is not JSON: ${(e as Error).message}`);
  }
  const token = (doc as { token?: unknown } | null)?.token;
  if (typeof token !== 'string' || token === '') throw new UsageError(`${file} has no "token" string`);
  return token;
}

/** The gateway to ask, when --url is given; undefined: ask over the bus as usual. */
export function remoteOf(options: { url?: string | undefined; token?: string | undefined }, env: GatewayClientEnv): Remote | undefined {
  if (options.url === undefined) {
    if (options.token !== undefined) throw new UsageError('--token goes with --url');
    return undefined;
  }
  let u: URL;
  try {
    u = new URL(options.url);
  } catch {
    throw new UsageError(`--url must be the gateway's URL like http://127.0.0.1:8080, got "${options.url}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--url must be http(s), got "${options.url}"`);
  const file = gatewayConfigFile(env.configHome);
  const token = options.token ?? env.token ?? tokenFromFile(file);
  if (token === undefined) throw new UsageError(`--url needs a token: --token, FLEETVISOR_TOKEN, or {"token": "..."} in ${file} (mode 0600); \`fleetvisor token create\` makes one`);
  return { url: u.origin + u.pathname.replace(/\/+$/, ''), token };
}

export type GatewayAnswer = { ok: true; body: unknown } | { ok: false; error: { code: string; message: string } };

/** One call to the gateway; a problem+json answer becomes { code, message } like a bus refusal. */
export async function callGateway(remote: Remote, method: 'GET' | 'POST', pathAndQuery: string, body?: unknown, timeoutMs = 30_000): Promise<GatewayAnswer> {
  let res: Response;
  try {
    res = await fetch(remote.url + pathAndQuery, {
      method,
      headers: { authorization: `Bearer ${remote.token}`, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    return { ok: false, error: { code: 'unavailable', message: `the gateway at ${remote.url} does not answer: ${(e as Error).message}` } };
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'unavailable', message: `the gateway at ${remote.url} answered ${res.status} without JSON` } };
  }
  if (!res.ok) {
    const p = parsed as { code?: string; detail?: string; title?: string };
    const code = p.code ?? (res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : res.status === 404 ? 'not_found' : res.status === 400 ? 'invalid_request' : 'unavailable');
    return { ok: false, error: { code, message: `${p.detail ?? p.title ?? `HTTP ${res.status}`} (gateway ${remote.url})` } };
  }
  return { ok: true, body: parsed };
}

/** `?a=1&b=x` of the defined values. */
export function queryString(o: Record<string, unknown>): string {
  const q = Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return q ? `?${q}` : '';
}
