// Validation of lavap provider/consumer config files (the YAML `lavap rpcprovider|rpcconsumer`
// reads), with errors that name the wrong field. Shapes, from lavanet/lava's config examples:
//   provider: endpoints: [{ api-interface, chain-id, network-address: { address: host:port,
//             disable-tls? }, node-urls: [{ url }] | { url } }]
//   consumer: endpoints: [{ chain-id, api-interface, network-address: host:port }],
//             metrics-listen-address?: "[host]:port"
import { parse as parseYaml } from 'yaml';
import { CHAIN_ID_PATTERN } from '@fleetvisor/contracts';

export const API_INTERFACES = ['tendermintrpc', 'rest', 'grpc', 'jsonrpc'] as const;
const CHAIN_ID = new RegExp(CHAIN_ID_PATTERN);

export class LavapConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'LavapConfigError';
  }
}

export interface LavapConfigSummary {
  /** chain-id of the first endpoint (lavavisor names services <from>-<this>). */
  firstChainId: string;
  /** network address of the first endpoint (host:port), for the health probe. */
  networkAddress: string;
  endpoints: number;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
};

/** `host:port` or `:port` (any interface), port 1..65535. */
export function isHostPort(v: unknown, allowEmptyHost = false): boolean {
  if (typeof v !== 'string') return false;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(v);
  if (!m) return false;
  if (!allowEmptyHost && m[1] === '') return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65_535;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkUrl(v: unknown, field: string): void {
  if (typeof v !== 'string' || v.length === 0) throw new LavapConfigError(field, `must be a URL string, got ${show(v)}`);
  // gRPC node urls are often bare host:port.
  if (isHostPort(v)) return;
  try {
    new URL(v);
  } catch {
    throw new LavapConfigError(field, `is not a URL or host:port: ${show(v)}`);
  }
}

export function validateLavapConfig(role: 'provider' | 'consumer', text: string): LavapConfigSummary {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new LavapConfigError('(file)', `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isRecord(doc)) throw new LavapConfigError('(file)', 'must be a YAML mapping with endpoints');
  const endpoints = doc['endpoints'];
  if (!Array.isArray(endpoints) || endpoints.length === 0) throw new LavapConfigError('endpoints', 'must be a non-empty list');
  let firstChainId = '';
  let networkAddress = '';
  endpoints.forEach((ep, i) => {
    const at = `endpoints[${i}]`;
    if (!isRecord(ep)) throw new LavapConfigError(at, 'must be a mapping');
    const api = ep['api-interface'];
    if (typeof api !== 'string' || !(API_INTERFACES as readonly string[]).includes(api)) {
      throw new LavapConfigError(`${at}.api-interface`, `must be one of ${API_INTERFACES.join(', ')}, got ${show(api)}`);
    }
    const chainId = ep['chain-id'];
    if (typeof chainId !== 'string' || !CHAIN_ID.test(chainId)) throw new LavapConfigError(`${at}.chain-id`, `must be a chain id like LAV1 or ETH1, got ${show(chainId)}`);
    let address: unknown;
    const na = ep['network-address'];
    if (role === 'provider') {
      if (isRecord(na)) {
        address = na['address'];
        if (!isHostPort(address, true)) throw new LavapConfigError(`${at}.network-address.address`, `must be host:port, got ${show(address)}`);
        if (na['disable-tls'] !== undefined && typeof na['disable-tls'] !== 'boolean') {
          throw new LavapConfigError(`${at}.network-address.disable-tls`, 'must be true or false');
        }
      } else if (isHostPort(na, true)) {
        address = na;
      } else {
        throw new LavapConfigError(`${at}.network-address`, `must be a mapping with address: host:port, got ${show(na)}`);
      }
      const urls = ep['node-urls'];
      const list = Array.isArray(urls) ? urls : isRecord(urls) ? [urls] : undefined;
      if (!list || list.length === 0) throw new LavapConfigError(`${at}.node-urls`, 'must be a list of { url } (at least one)');
      list.forEach((u, k) => {
        if (!isRecord(u)) throw new LavapConfigError(`${at}.node-urls[${k}]`, 'must be a mapping with url');
        checkUrl(u['url'], `${at}.node-urls[${k}].url`);
      });
    } else {
      address = na;
      if (!isHostPort(na, true)) throw new LavapConfigError(`${at}.network-address`, `must be host:port, got ${show(na)}`);
    }
    if (i === 0) {
      firstChainId = chainId;
      networkAddress = address as string;
    }
  });
  if (role === 'consumer' && doc['metrics-listen-address'] !== undefined && !isHostPort(doc['metrics-listen-address'], true)) {
    throw new LavapConfigError('metrics-listen-address', `must be [host]:port, got ${show(doc['metrics-listen-address'])}`);
  }
  return { firstChainId, networkAddress: networkAddress.startsWith(':') ? `127.0.0.1${networkAddress}` : networkAddress.replace(/^0\.0\.0\.0:/, '127.0.0.1:'), endpoints: endpoints.length };
}
