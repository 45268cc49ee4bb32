// Configuration of the proving watch, from the environment; errors name the variable.
//   FLEETVISOR_FILECOIN_CHAINS='calibnet=http://node-a:1234/rpc/v1,http://node-b:1234/rpc/v1;mainnet=https://…'
//     (chains separated by ';', Lotus/venus JSON-RPC endpoints in failover order separated by ',')
//   FLEETVISOR_FILECOIN_MINERS='f01000,f01001'  (every Filecoin chain) or 'calibnet:t01000,mainnet:f02000'
//   FLEETVISOR_FILECOIN_POLL_INTERVAL (default 2s; Filecoin epochs are 30 s): ChainHead polls while
//     ChainNotify is down
//   FLEETVISOR_FILECOIN_NOTIFY (default on): follow the head over Filecoin.ChainNotify on the
//     endpoint's WebSocket (ws(s):// of the same host and path); off: poll only
//   FLEETVISOR_FILECOIN_NOTIFY_STALL (default 90s: three epochs): a subscription silent this long is down
//   FLEETVISOR_FILECOIN_NOTIFY_RETRY_MAX (default 5s): reconnection backoff cap
//   FLEETVISOR_FILECOIN_TOKEN or FLEETVISOR_FILECOIN_TOKEN_FILE: an API token with the read
//     permission (`lotus auth create-token --perm read`, or one from venus-auth), sent as
//     `Authorization: Bearer` to every Filecoin endpoint; not needed by a Lotus node that gives
//     anonymous callers read, needed by one that does not (venus behind venus-auth)
import { CHAIN_ID_PATTERN, MINER_ID_PATTERN } from '@fleetvisor/contracts';
import { ConfigError, envReader, readSecret, type Env, type Secret } from '@fleetvisor/platform';

export const FILECOIN_CHAINS_VARIABLE = 'FLEETVISOR_FILECOIN_CHAINS';
export const FILECOIN_MINERS_VARIABLE = 'FLEETVISOR_FILECOIN_MINERS';
export const FILECOIN_TOKEN_VARIABLE = 'FLEETVISOR_FILECOIN_TOKEN';

export interface FilecoinChainConfig {
  name: string;
  endpoints: string[];
  miners: string[];
}

export interface FilecoinWatchConfig {
  chains: FilecoinChainConfig[];
  pollIntervalMs: number;
  /** Follow heads over ChainNotify (WebSocket), polling only while it is down. */
  notify: boolean;
  notifyStallMs: number;
  notifyRetryMaxMs: number;
  /** The API token for every endpoint, and the variable it came from (named when a node refuses it). */
  token?: { secret: Secret; variable: string };
}

function parseEndpoints(name: string, text: string): string[] {
  const endpoints = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (endpoints.length === 0) throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `chain ${name} has no endpoint`);
  for (const e of endpoints) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `chain ${name}: "${e.replace(/\/\/[^@/]*@/, '//***@').slice(0, 80)}" is not a URL`);
    }
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol))
      throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `chain ${name}: endpoint ${u.protocol}//${u.host} must be http(s):// or ws(s):// (JSON-RPC, e.g. http://node:1234/rpc/v1)`);
    if (u.username || u.password) throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `chain ${name}: endpoint ${u.protocol}//${u.host} must not carry credentials`);
  }
  if (new Set(endpoints).size !== endpoints.length) throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `chain ${name} lists an endpoint twice`);
  return endpoints;
}

/** The proving watch's configuration, or undefined when no Filecoin chain is configured. */
export function loadFilecoinWatchConfig(env: Env): FilecoinWatchConfig | undefined {
  const chainsText = env[FILECOIN_CHAINS_VARIABLE]?.trim();
  const minersText = env[FILECOIN_MINERS_VARIABLE]?.trim();
  if (!chainsText) {
    if (minersText) throw new ConfigError(FILECOIN_MINERS_VARIABLE, `miners given but no chain to watch them on (${FILECOIN_CHAINS_VARIABLE})`);
    return undefined;
  }
  const chainName = new RegExp(CHAIN_ID_PATTERN);
  const chains: FilecoinChainConfig[] = [];
  for (const part of chainsText.split(';').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `"${part.slice(0, 60)}" must be <name>=<endpoint>[,<endpoint>...]`);
    const name = part.slice(0, eq).trim();
    if (!chainName.test(name)) throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `invalid chain name "${name.slice(0, 60)}" (letters, digits, . _ -; at most 50)`);
    if (chains.some((c) => c.name === name)) throw new ConfigError(FILECOIN_CHAINS_VARIABLE, `chain ${name} is listed twice`);
    chains.push({ name, endpoints: parseEndpoints(name, part.slice(eq + 1)), miners: [] });
  }
  if (chains.length === 0) throw new ConfigError(FILECOIN_CHAINS_VARIABLE, 'no chain given');
  if (!minersText) throw new ConfigError(FILECOIN_MINERS_VARIABLE, `required with ${FILECOIN_CHAINS_VARIABLE}: the miners to watch, e.g. 'f01000,f01001' or 'calibnet:t01000'`);
  const minerId = new RegExp(MINER_ID_PATTERN);
  for (const item of minersText.split(',').map((m) => m.trim()).filter((m) => m !== '')) {
    const colon = item.indexOf(':');
    const id = colon < 0 ? item : item.slice(colon + 1);
    const targets = colon < 0 ? chains : chains.filter((c) => c.name === item.slice(0, colon));
    if (targets.length === 0) throw new ConfigError(FILECOIN_MINERS_VARIABLE, `"${item.slice(0, 80)}" names a chain not in ${FILECOIN_CHAINS_VARIABLE}`);
    if (!minerId.test(id)) throw new ConfigError(FILECOIN_MINERS_VARIABLE, `"${id.slice(0, 40)}" is not a miner ID address (f0… or t0…)`);
    for (const c of targets) {
      if (c.miners.includes(id)) throw new ConfigError(FILECOIN_MINERS_VARIABLE, `miner ${id} is listed twice for ${c.name}`);
      c.miners.push(id);
    }
  }
  const empty = chains.find((c) => c.miners.length === 0);
  if (empty) throw new ConfigError(FILECOIN_MINERS_VARIABLE, `chain ${empty.name} has no miner to watch`);
  const read = envReader(env);
  const positive = (name: string, def: string): number => {
    const ms = read.duration(name, def);
    if (ms <= 0) throw new ConfigError(name, 'must be above 0');
    return ms;
  };
  const pollIntervalMs = positive('FLEETVISOR_FILECOIN_POLL_INTERVAL', '2s');
  const notifyText = (env['FLEETVISOR_FILECOIN_NOTIFY'] ?? 'on').trim().toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(notifyText)) throw new ConfigError('FLEETVISOR_FILECOIN_NOTIFY', `"${notifyText.slice(0, 20)}" must be on or off`);
  const token = readSecret(env, FILECOIN_TOKEN_VARIABLE);
  // A header value cannot carry them; a pasted `lotus auth api-info` line (TOKEN:/ip4/…) neither.
  if (token && /[\s:]/.test(token.secret.reveal())) throw new ConfigError(token.variable, 'must be the token alone (no spaces, newlines or ":"; from `lotus auth api-info` take the part before the ":")');
  return {
    ...(token ? { token } : {}),
    chains,
    pollIntervalMs,
    notify: ['on', 'true', '1'].includes(notifyText),
    notifyStallMs: positive('FLEETVISOR_FILECOIN_NOTIFY_STALL', '90s'),
    notifyRetryMaxMs: positive('FLEETVISOR_FILECOIN_NOTIFY_RETRY_MAX', '5s'),
  };
}
