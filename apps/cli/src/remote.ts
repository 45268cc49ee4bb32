// The CLI against a remote fleet through the REST gateway (`--url`): the same questions the
// commands ask over the bus, sent as the gateway's routes with a bearer token, answered in the
// same shape (a CommandReply), so the commands print exactly what they print over the bus.
// The token comes from --token, else FLEETVISOR_TOKEN, else ~/.config/fleetvisor/gateway.json
// ({"token": "..."}), which must not be readable by others (mode 0600), like an ssh key.
import fs from 'node:fs';
import path from 'node:path';
import type { CommandDefinition, CommandReply, CommandRequestOf, CommandResultOf } from '@fleetvisor/contracts';
import { UsageError } from '@fleetvisor/platform';
import { readRemoteEnv } from './config';

export const REMOTE_OPTIONS = {
  url: { type: 'string', description: 'ask a remote fleet through its REST gateway (e.g. https://fleet.example:8080) instead of the bus', placeholder: 'url' },
  token: { type: 'string', description: 'with --url: the gateway token (default FLEETVISOR_TOKEN, else ~/.config/fleetvisor/gateway.json)', placeholder: 'token' },
} as const;

export interface Remote {
  url: string;
  token: string;
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
export function remoteOf(options: { url?: string | undefined; token?: string | undefined }, env: { token: string | undefined; configHome: string } = readRemoteEnv()): Remote | undefined {
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

const enc = encodeURIComponent;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString('utf8');

function query(o: Record<string, unknown>): string {
  const q = Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`)
    .join('&');
  return q ? `?${q}` : '';
}

interface RestCall {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** The route's answer as the bus command's result. */
  result?(r: unknown): unknown;
}

/** Which gateway route answers which bus command (the commands the CLI can ask remotely). */
function restCallOf(def: CommandDefinition, p: Record<string, unknown>): RestCall {
  const w = () => enc(String(p.worker));
  switch (`${def.service}.${def.verb}`) {
    case 'worker-registry.list-page':
      return {
        method: 'GET',
        path: `/api/v1/workers${query({ limit: p.limit ?? 1000, cursor: p.after === undefined ? undefined : b64(String(p.after)) })}`,
        result: (r) => {
          const page = r as { next?: string };
          return page.next === undefined ? page : { ...page, next: unb64(page.next) };
        },
      };
    case 'worker-registry.info':
      return { method: 'GET', path: `/api/v1/workers/${w()}` };
    case 'worker-registry.pause':
      return { method: 'POST', path: `/api/v1/workers/${w()}/threads/${Number(p.index)}/pause` };
    case 'worker-registry.resume':
      return { method: 'POST', path: `/api/v1/workers/${w()}/threads/${Number(p.index)}/resume`, body: p.state === undefined ? {} : { state: p.state } };
    case 'worker-registry.drain':
      return { method: 'POST', path: `/api/v1/workers/${w()}/drain` };
    case 'chain-watcher.status':
      return { method: 'GET', path: `/api/v1/chains${query(p)}` };
    case 'stats-collector.calls':
    case 'stats-collector.top':
    case 'stats-collector.anomalies':
      return { method: 'GET', path: `/api/v1/stats/${def.verb}${query(p)}` };
    default:
      throw new UsageError(`${def.service}.${def.verb} cannot be asked through the gateway (--url) yet`);
  }
}

/** Asks the gateway what `def` asks over the bus; a problem+json answer becomes the refusal it names. */
export async function askRemote<C extends CommandDefinition>(remote: Remote, def: C, payload: CommandRequestOf<C>, timeoutMs = 30_000): Promise<CommandReply<CommandResultOf<C>>> {
  const call = restCallOf(def, (payload ?? {}) as Record<string, unknown>);
  let res: Response;
  try {
    res = await fetch(remote.url + call.path, {
      method: call.method,
      headers: { authorization: `Bearer ${remote.token}`, accept: 'application/json', ...(call.method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(call.method === 'POST' ? { body: JSON.stringify(call.body ?? {}) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    return { ok: false, error: { code: 'unavailable', message: `the gateway at ${remote.url} does not answer: ${(e as Error).message}` } };
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'unavailable', message: `the gateway at ${remote.url} answered ${res.status} without JSON` } };
  }
  if (!res.ok) {
    const p = body as { code?: string; detail?: string; title?: string };
    const code = p.code ?? (res.status === 401 ? 'unauthorized' : res.status === 403 ? 'forbidden' : res.status === 404 ? 'not_found' : res.status === 400 ? 'invalid_request' : 'unavailable');
    return { ok: false, error: { code, message: `${p.detail ?? p.title ?? `HTTP ${res.status}`} (gateway ${remote.url})` } };
  }
  return { ok: true, result: (call.result ? call.result(body) : body) as CommandResultOf<C> };
}
