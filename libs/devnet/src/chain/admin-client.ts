// A small client of a devnet node's admin endpoint (/admin/*), for `fleetvisor devnet …` and for
// tests or benchmarks that drive a node running in another process.
import { DependencyUnreachableError, isConnectFailure } from '@fleetvisor/platform';
import type { LavaVersionParams, UpgradePlanParams } from './api';
import type { FaultsBody } from './admin';

export interface DevnetAdminState {
  chainId: string;
  rpcUrl: string;
  wsUrl: string;
  blockTimeMs: number;
  height: number;
  version: LavaVersionParams;
  upgradePlan: UpgradePlanParams | null;
  faults: Record<string, unknown>;
  stats: { byMethod: Record<string, number>; abciQueriesByPath: Record<string, number>; total: number };
}

export class DevnetAdminError extends Error {
  override name = 'DevnetAdminError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class DevnetAdminClient {
  private readonly base: string;

  /** `nodeUrl` is the node's RPC root, e.g. http://127.0.0.1:26657. */
  constructor(
    nodeUrl: string,
    private readonly variable = 'FLEETVISOR_DEVNET_URL or --node',
  ) {
    this.base = nodeUrl.replace(/\/+$/, '');
  }

  state(): Promise<DevnetAdminState> {
    return this.request('GET', '/admin/state');
  }

  setVersion(v: LavaVersionParams): Promise<{ height: number; version: LavaVersionParams }> {
    return this.request('POST', '/admin/version', v);
  }

  scheduleUpgrade(plan: UpgradePlanParams): Promise<{ height: number; plan: UpgradePlanParams }> {
    return this.request('POST', '/admin/upgrade', plan);
  }

  clearUpgrade(): Promise<{ height: number; plan: null }> {
    return this.request('DELETE', '/admin/upgrade');
  }

  faults(body: FaultsBody): Promise<{ faults: Record<string, unknown> }> {
    return this.request('POST', '/admin/faults', body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      const cause = (e as { cause?: unknown }).cause ?? e;
      if (isConnectFailure(cause)) throw new DependencyUnreachableError(this.variable, this.base, cause, 'the devnet node');
      throw new Error(`${method} ${this.base}${path}: ${(e as Error).message}${cause !== e ? `: ${(cause as Error).message ?? String(cause)}` : ''}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DevnetAdminError(res.status, `${method} ${path}: the node answered HTTP ${res.status} without JSON (is ${this.base} a devnet node?)`);
    }
    if (!res.ok) {
      const msg = (parsed as { error?: unknown }).error;
      throw new DevnetAdminError(res.status, `${method} ${path}: ${typeof msg === 'string' ? msg : `HTTP ${res.status}`}`);
    }
    return parsed as T;
  }
}
