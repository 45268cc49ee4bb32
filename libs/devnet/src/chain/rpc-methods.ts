// The JSON-RPC methods the node answers, over both transports: method name + params in, result
// out, or an RpcError carrying the code and text CometBFT would send. No I/O here.
import { QueryCurrentPlanResponse } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { Plan } from 'cosmjs-types/cosmos/upgrade/v1beta1/upgrade';
import * as cj from './comet-json';
import { encodeLavaParamsResponse, LAVA_PARAMS_QUERY_PATH } from './lava-protocol';
import type { BlockRecord, ChainLedger } from './ledger';

export const UPGRADE_CURRENT_PLAN_PATH = '/cosmos.upgrade.v1beta1.Query/CurrentPlan';

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const invalidParams = (data: string): RpcError => new RpcError(-32602, 'Invalid params', data);
export const internalError = (data: string): RpcError => new RpcError(-32603, 'Internal error', data);
export const methodNotFound = (): RpcError => new RpcError(-32601, 'Method not found');

/** Positional params (CometBFT accepts arrays too) mapped to names, per method. */
const POSITIONAL: Record<string, string[]> = {
  block: ['height'],
  block_results: ['height'],
  abci_query: ['path', 'data', 'height', 'prove'],
  subscribe: ['query'],
  unsubscribe: ['query'],
};

export function namedParams(method: string, params: unknown): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (Array.isArray(params)) {
    const names = POSITIONAL[method] ?? [];
    const out: Record<string, unknown> = {};
    params.forEach((p, i) => {
      if (names[i]) out[names[i]] = p;
    });
    return out;
  }
  if (typeof params === 'object') return params as Record<string, unknown>;
  throw invalidParams('params must be an object or an array');
}

export interface RpcContext {
  chainId: string;
  rpcAddress: string;
  ledger: ChainLedger;
  validator: cj.ValidatorIdentity;
  /** Fault switch: answer the Params query with bytes that do not decode. */
  malformedParams: boolean;
  /** The node does not keep block results (CometBFT's discard_abci_responses). */
  discardAbciResponses?: boolean;
}

/** Parses an optional int64 height param; undefined/null/0 mean "latest". */
function heightParam(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n)) throw invalidParams(`error converting json params to arguments: invalid height ${JSON.stringify(raw)}`);
  if (n < 0) throw internalError(`height must be greater than 0, but got ${n}`);
  return n === 0 ? undefined : n;
}

function blockAt(ctx: RpcContext, raw: unknown): BlockRecord {
  const latest = ctx.ledger.latest;
  const earliest = ctx.ledger.earliest;
  if (!latest || !earliest) throw internalError('no blocks yet');
  const h = heightParam(raw) ?? latest.height;
  if (h > latest.height) throw internalError(`height ${h} must be less than or equal to the current blockchain height ${latest.height}`);
  const r = ctx.ledger.at(h);
  if (!r) throw internalError(`height ${h} is not available, lowest height is ${earliest.height}`);
  return r;
}

function hexData(raw: unknown): Uint8Array {
  if (raw === undefined || raw === null) return new Uint8Array(0);
  if (typeof raw !== 'string') throw invalidParams('data must be a hex string');
  const hex = raw.startsWith('0x') || raw.startsWith('0X') ? raw.slice(2) : raw;
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw invalidParams(`data is not valid hex: ${JSON.stringify(raw.slice(0, 40))}`);
  return Buffer.from(hex, 'hex');
}

interface AbciQueryAnswer {
  code: number;
  codespace: string;
  log: string;
  value?: Uint8Array;
  height: number;
}

function abciResponse(a: AbciQueryAnswer): unknown {
  return {
    response: {
      code: a.code,
      log: a.log,
      info: '',
      index: '0',
      key: null,
      value: a.value && a.value.length > 0 ? Buffer.from(a.value).toString('base64') : null,
      proofOps: null,
      height: String(a.height),
      codespace: a.codespace,
    },
  };
}

/** What the app answers for a query path at a block's state (Cosmos SDK codes: 6 unknown request, 26 invalid height). */
export function abciQuery(ctx: RpcContext, params: Record<string, unknown>): unknown {
  const path = params['path'];
  if (typeof path !== 'string' || path === '') throw invalidParams('path must be a non-empty string');
  hexData(params['data']);
  const latest = ctx.ledger.latest;
  if (!latest) throw internalError('no blocks yet');
  const h = heightParam(params['height']) ?? latest.height;
  if (h > latest.height) {
    return abciResponse({ code: 26, codespace: 'sdk', log: 'cannot query with height in the future; please provide a valid height: invalid height', height: 0 });
  }
  const r = ctx.ledger.at(h);
  if (!r) {
    return abciResponse({ code: 26, codespace: 'sdk', log: `failed to load state at height ${h}; version does not exist (latest height: ${latest.height}): invalid height`, height: 0 });
  }
  if (path === LAVA_PARAMS_QUERY_PATH) {
    const bytes = encodeLavaParamsResponse(r.version);
    // Truncated: the outer length now runs past the end, so no protobuf reader accepts it.
    const value = ctx.malformedParams ? bytes.subarray(0, Math.max(1, bytes.length - 3)) : bytes;
    return abciResponse({ code: 0, codespace: '', log: '', value, height: r.height });
  }
  if (path === UPGRADE_CURRENT_PLAN_PATH) {
    const plan = r.plan
      ? Plan.fromPartial({ name: r.plan.name, height: BigInt(r.plan.height), info: r.plan.info })
      : undefined;
    const value = QueryCurrentPlanResponse.encode(QueryCurrentPlanResponse.fromPartial(plan ? { plan } : {})).finish();
    return abciResponse({ code: 0, codespace: '', log: '', value, height: r.height });
  }
  return abciResponse({ code: 6, codespace: 'sdk', log: `unknown query path: ${path}: unknown request`, height: 0 });
}

/** Answers one HTTP-or-WebSocket method that does not need the connection (not subscribe/unsubscribe). */
export function callMethod(ctx: RpcContext, method: string, rawParams: unknown): unknown {
  const params = namedParams(method, rawParams);
  const latest = ctx.ledger.latest;
  switch (method) {
    case 'health':
      return {};
    case 'status': {
      const earliest = ctx.ledger.earliest;
      if (!latest || !earliest) throw internalError('no blocks yet');
      return cj.status({ chainId: ctx.chainId, rpcAddress: ctx.rpcAddress, latest, earliest, v: ctx.validator });
    }
    case 'abci_info':
      return {
        response: {
          data: 'lava',
          version: 'v5.0.0-devnet',
          app_version: '1',
          last_block_height: String(latest?.height ?? 0),
          last_block_app_hash: latest ? Buffer.from(latest.appHash, 'hex').toString('base64') : '',
        },
      };
    case 'block':
      return cj.blockResponse(blockAt(ctx, params['height']), ctx.chainId, ctx.validator);
    case 'block_results': {
      const r = blockAt(ctx, params['height']);
      // CometBFT's state store refuses every height when it discards ABCI responses.
      if (ctx.discardAbciResponses) throw internalError('node is not persisting finalize block responses');
      return cj.blockResults(r);
    }
    case 'abci_query':
      return abciQuery(ctx, params);
    default:
      throw methodNotFound();
  }
}

/** Subscription kinds the node publishes, by the query string clients send. */
export type SubscriptionKind = 'NewBlock' | 'NewBlockHeader' | 'NewBlockEvents';

export function parseSubscriptionQuery(query: unknown): SubscriptionKind {
  if (typeof query !== 'string') throw invalidParams('query must be a string');
  const m = /^\s*tm\.event\s*=\s*'(\w+)'\s*$/.exec(query);
  const kind = m?.[1];
  if (kind === 'NewBlock' || kind === 'NewBlockHeader' || kind === 'NewBlockEvents') return kind;
  throw internalError(`failed to subscribe: the devnet supports tm.event='NewBlock', 'NewBlockHeader' and 'NewBlockEvents' only, got ${JSON.stringify(query)}`);
}
