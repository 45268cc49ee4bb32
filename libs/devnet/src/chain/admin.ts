// The node's admin endpoint (/admin/*, JSON in and out), how `fleetvisor devnet set-version`,
// `schedule-upgrade` and `fault` drive a node in another process. Bodies are checked before
// anything changes; a bad body gets 400 with a message naming the field.
import type { DevnetChain, LavaVersionParams, UpgradePlanParams } from './api';
import type { FaultState } from './faults';

export interface AdminResponse {
  status: number;
  body: unknown;
}

export interface AdminTarget extends DevnetChain {
  faultState(): FaultState;
  upgradePlan(): UpgradePlanParams | undefined;
  readonly blockTimeMs: number;
}

export class AdminInputError extends Error {
  override name = 'AdminInputError';
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new AdminInputError('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[]): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length) throw new AdminInputError(`unknown field(s): ${extra.join(', ')} (allowed: ${allowed.join(', ')})`);
}

const VERSION_KEYS = ['providerTarget', 'providerMin', 'consumerTarget', 'consumerMin'] as const;

/** Any strings are accepted (the chain-watcher's tests need invalid versions); only the shape is checked. */
export function parseVersionBody(body: unknown): LavaVersionParams {
  const o = asObject(body);
  onlyKeys(o, VERSION_KEYS);
  const out = {} as LavaVersionParams;
  for (const k of VERSION_KEYS) {
    const v = o[k];
    if (typeof v !== 'string') throw new AdminInputError(`${k} is required and must be a string`);
    if (v.length > 256) throw new AdminInputError(`${k} is longer than 256 characters`);
    out[k] = v;
  }
  return out;
}

export function parseUpgradeBody(body: unknown): UpgradePlanParams {
  const o = asObject(body);
  onlyKeys(o, ['name', 'height', 'info']);
  const { name, height, info = '' } = o;
  if (typeof name !== 'string' || name.trim() === '') throw new AdminInputError('name is required and must be a non-empty string');
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height <= 0) throw new AdminInputError('height is required and must be a positive integer');
  if (typeof info !== 'string') throw new AdminInputError('info must be a string');
  return { name, height, info };
}

export interface FaultsBody {
  reset?: boolean;
  dropWebSockets?: boolean;
  delayMs?: number;
  delayMethods?: string[];
  /** Number of requests to fail, or null for "until reset". */
  fail?: number | null;
  failMethods?: string[];
  malformedParams?: boolean;
}

function methodList(v: unknown, field: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((m) => typeof m !== 'string' || m === '')) throw new AdminInputError(`${field} must be an array of method names`);
  return v as string[];
}

export function parseFaultsBody(body: unknown): FaultsBody {
  const o = asObject(body);
  onlyKeys(o, ['reset', 'dropWebSockets', 'delayMs', 'delayMethods', 'fail', 'failMethods', 'malformedParams']);
  const out: FaultsBody = {};
  for (const k of ['reset', 'dropWebSockets', 'malformedParams'] as const) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'boolean') throw new AdminInputError(`${k} must be true or false`);
      out[k] = o[k];
    }
  }
  if (o['delayMs'] !== undefined) {
    const d = o['delayMs'];
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0 || d > 600_000) throw new AdminInputError('delayMs must be a number of milliseconds between 0 and 600000');
    out.delayMs = d;
  }
  if (o['fail'] !== undefined) {
    const f = o['fail'];
    if (f !== null && (typeof f !== 'number' || !Number.isSafeInteger(f) || f < 0)) throw new AdminInputError('fail must be an integer >= 0, or null for "until reset"');
    out.fail = f;
  }
  const dm = methodList(o['delayMethods'], 'delayMethods');
  const fm = methodList(o['failMethods'], 'failMethods');
  if (dm && out.delayMs === undefined) throw new AdminInputError('delayMethods needs delayMs');
  if (fm && out.fail === undefined) throw new AdminInputError('failMethods needs fail');
  if (dm) out.delayMethods = dm;
  if (fm) out.failMethods = fm;
  return out;
}

/** The fault state as JSON (Infinity has no JSON form: null means "until reset"). */
export function faultStateJson(s: FaultState): Record<string, unknown> {
  return { ...s, failRemaining: Number.isFinite(s.failRemaining) ? s.failRemaining : null };
}

export function adminState(chain: AdminTarget): Record<string, unknown> {
  return {
    chainId: chain.chainId,
    rpcUrl: chain.rpcUrl,
    wsUrl: chain.wsUrl,
    blockTimeMs: chain.blockTimeMs,
    height: chain.height(),
    version: chain.version(),
    upgradePlan: chain.upgradePlan() ?? null,
    faults: faultStateJson(chain.faultState()),
    stats: chain.stats(),
  };
}

/** Routes one admin request; `body` is the parsed JSON (undefined when there was none). */
export async function handleAdmin(chain: AdminTarget, method: string, path: string, body: unknown): Promise<AdminResponse> {
  try {
    const route = `${method} ${path.replace(/\/+$/, '')}`;
    switch (route) {
      case 'GET /admin/state':
        return { status: 200, body: adminState(chain) };
      case 'POST /admin/version': {
        const v = parseVersionBody(body);
        const { height } = await chain.setVersion(v);
        return { status: 200, body: { height, version: v } };
      }
      case 'POST /admin/upgrade': {
        const plan = parseUpgradeBody(body);
        const { height } = await chain.scheduleUpgrade(plan);
        return { status: 200, body: { height, plan } };
      }
      case 'DELETE /admin/upgrade': {
        const { height } = await chain.clearUpgrade();
        return { status: 200, body: { height, plan: null } };
      }
      case 'POST /admin/faults': {
        const f = parseFaultsBody(body);
        if (f.reset) chain.faults.reset();
        if (f.dropWebSockets === true) chain.faults.dropWebSockets();
        if (f.dropWebSockets === false) chain.faults.allowWebSockets();
        if (f.delayMs !== undefined) chain.faults.delayResponses(f.delayMs, f.delayMethods);
        if (f.fail !== undefined) chain.faults.failResponses(f.fail === null ? Infinity : f.fail, f.failMethods);
        if (f.malformedParams !== undefined) chain.faults.malformedParams(f.malformedParams);
        return { status: 200, body: { faults: faultStateJson(chain.faultState()) } };
      }
      case 'GET /admin/stats':
        return { status: 200, body: chain.stats() };
      case 'DELETE /admin/stats':
        chain.resetStats();
        return { status: 200, body: chain.stats() };
      default:
        return { status: 404, body: { error: `no admin route ${route}; see GET /admin/state, POST /admin/version, POST|DELETE /admin/upgrade, POST /admin/faults, GET|DELETE /admin/stats` } };
    }
  } catch (e) {
    if (e instanceof AdminInputError) return { status: 400, body: { error: e.message } };
    return { status: 500, body: { error: (e as Error).message } };
  }
}
