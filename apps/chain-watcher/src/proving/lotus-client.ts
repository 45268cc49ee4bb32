// JSON-RPC 2.0 over HTTP to a Lotus or venus node (POST <endpoint>, e.g. http://node:1234/rpc/v1).
// Endpoints are tried in order: a transport failure moves to the next, and the preferred one is
// tried first again on the next call. A JSON-RPC error answer is the node's word and is not retried
// elsewhere. Every call is counted (the proving watch's calls per epoch are measured from this).
// A Lotus node gives anonymous callers the read permission; one that does not (venus behind
// venus-auth) needs a token, sent as a bearer token when configured and never logged. A refusal
// says which setting to change.

export class LotusRpcError extends Error {
  override name = 'LotusRpcError';
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

export interface LotusClientOptions {
  endpoints: string[];
  timeoutMs: number;
  token?: string;
  /** The setting the token comes from (or would), named when a node refuses a call. */
  tokenVariable?: string;
  onCall?(method: string): void;
}

/** What to do when a node refuses for want of a (valid) token. */
export function tokenAdvice(hasToken: boolean, variable = 'FLEETVISOR_FILECOIN_TOKEN'): string {
  return hasToken ? `the node refused the token of ${variable}` : `the node wants a token: set ${variable} (or ${variable}_FILE) to one with the read permission`;
}

/** An endpoint as it may be shown (credentials removed). */
export function redactEndpoint(e: string): string {
  try {
    const u = new URL(e);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

export class LotusClient {
  private nextId = 1;
  private used = 0;
  calls = 0;

  constructor(private readonly opts: LotusClientOptions) {
    if (opts.endpoints.length === 0) throw new Error('a Lotus client needs at least one endpoint');
  }

  /** The endpoint that answered last (redacted). */
  get endpoint(): string {
    return redactEndpoint(this.opts.endpoints[this.used]!);
  }

  async call(method: string, params: unknown[]): Promise<unknown> {
    let last: Error | undefined;
    for (let i = 0; i < this.opts.endpoints.length; i++) {
      try {
        const result = await this.callOne(this.opts.endpoints[i]!, method, params);
        this.used = i;
        return result;
      } catch (e) {
        if (e instanceof LotusRpcError && e.code !== undefined) throw e;
        last = e as Error;
      }
    }
    throw new LotusRpcError(`${method}: no endpoint answered (${last?.message ?? 'unknown'})`);
  }

  private async callOne(endpoint: string, method: string, params: unknown[]): Promise<unknown> {
    this.calls++;
    this.opts.onCall?.(method);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.token) headers['authorization'] = `Bearer ${this.opts.token}`;
    const res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    }).catch((e: unknown) => {
      throw new LotusRpcError(`${redactEndpoint(endpoint)}: ${(e as Error).message}`);
    });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new LotusRpcError(`${redactEndpoint(endpoint)}: HTTP ${res.status}: ${tokenAdvice(Boolean(this.opts.token), this.opts.tokenVariable)}`);
    }
    if (!res.ok) throw new LotusRpcError(`${redactEndpoint(endpoint)}: HTTP ${res.status}`);
    const body = (await res.json().catch(() => undefined)) as { result?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
    if (typeof body !== 'object' || body === null) throw new LotusRpcError(`${redactEndpoint(endpoint)}: not a JSON-RPC answer`);
    if (body.error) {
      const code = typeof body.error.code === 'number' ? body.error.code : -1;
      const message = String(body.error.message ?? 'error').slice(0, 300);
      // go-jsonrpc's auth proxy: "missing permission to invoke 'M' (need 'read')".
      const advice = /missing permission/i.test(message) ? ` (${tokenAdvice(Boolean(this.opts.token), this.opts.tokenVariable)})` : '';
      throw new LotusRpcError(`${method}: ${message}${advice}`, code);
    }
    if (!('result' in body)) throw new LotusRpcError(`${redactEndpoint(endpoint)}: answer without result`);
    return body.result;
  }
}
