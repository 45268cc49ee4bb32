// The CLI against a remote fleet through the REST gateway (`--url`): the same questions the
// commands ask over the bus, sent as the gateway's routes with a bearer token, answered in the
// same shape (a CommandReply), so the commands print exactly what they print over the bus.
// The token comes from --token, else FLEETVISOR_TOKEN, else ~/.config/fleetvisor/gateway.json
// ({"token": "..."}), which must not be readable by others (mode 0600), like an ssh key.
import type { CommandDefinition, CommandReply, CommandRequestOf, CommandResultOf } from '@fleetvisor/contracts';
import { callGateway, queryString, readGatewayClientEnv, remoteOf as remoteFrom, UsageError, type Remote } from '@fleetvisor/platform';

export { REMOTE_OPTIONS, type Remote } from '@fleetvisor/platform';

/** The gateway to ask, when --url is given (token: --token, FLEETVISOR_TOKEN, gateway.json). */
export function remoteOf(options: { url?: string | undefined; token?: string | undefined }): Remote | undefined {
  return remoteFrom(options, readGatewayClientEnv());
}

const enc = encodeURIComponent;
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString('utf8');

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
        path: `/api/v1/workers${queryString({ limit: p.limit ?? 1000, cursor: p.after === undefined ? undefined : b64(String(p.after)) })}`,
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
      return { method: 'GET', path: `/api/v1/chains${queryString(p)}` };
    case 'chain-watcher.proving-miner':
      return { method: 'GET', path: `/api/v1/miners/${enc(String(p.minerId))}/proving` };
    case 'stats-collector.calls':
    case 'stats-collector.top':
    case 'stats-collector.anomalies':
      return { method: 'GET', path: `/api/v1/stats/${def.verb}${queryString(p)}` };
    default:
      throw new UsageError(`${def.service}.${def.verb} cannot be asked through the gateway (--url) yet`);
  }
}

/** Asks the gateway what `def` asks over the bus; a problem+json answer becomes the refusal it names. */
export async function askRemote<C extends CommandDefinition>(remote: Remote, def: C, payload: CommandRequestOf<C>, timeoutMs = 30_000): Promise<CommandReply<CommandResultOf<C>>> {
  const call = restCallOf(def, (payload ?? {}) as Record<string, unknown>);
  const answer = await callGateway(remote, call.method, call.path, call.body, timeoutMs);
  if (!answer.ok) return answer;
  return { ok: true, result: (call.result ? call.result(answer.body) : answer.body) as CommandResultOf<C> };
}
