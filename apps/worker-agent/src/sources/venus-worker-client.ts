// A JSON-RPC 2.0 client for damocles-worker's admin API (namespace VenusWorker), as
// damocles-manager's workercli does it: POST to http://<dest>/, positional params.
export class JsonRpcCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'JsonRpcCallError';
  }
}

/** The endpoint could not be reached or did not answer JSON-RPC. */
export class VenusWorkerUnreachableError extends Error {
  override name = 'VenusWorkerUnreachableError';
}

/** The endpoint as errors name it: no user info or query (they may carry a credential). */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

export class VenusWorkerClient {
  private nextId = 1;
  private readonly shown: string;
  /** Where calls go: the URL without user info, which fetch refuses (quoting it in its error). */
  private readonly target: string;
  /** User info in the URL (an endpoint behind a proxy that asks for it) becomes Basic auth. */
  private readonly authorization: string | undefined;

  constructor(
    readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.shown = shownUrl(url);
    this.target = url;
    try {
      const u = new URL(url);
      if (u.username !== '' || u.password !== '') {
        this.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
        u.username = '';
        u.password = '';
        this.target = u.toString();
      }
    } catch {
      // Left to fetch, whose error is shown without the URL.
    }
  }

  workerList(): Promise<unknown> {
    return this.call('VenusWorker.WorkerList', [], { read: true });
  }

  async workerPause(index: number): Promise<boolean> {
    return (await this.call('VenusWorker.WorkerPause', [index])) === true;
  }

  async workerResume(index: number, setTo: string | undefined): Promise<boolean> {
    return (await this.call('VenusWorker.WorkerResume', [index, setTo ?? null])) === true;
  }

  async workerVersion(): Promise<string> {
    const v = await this.call('VenusWorker.WorkerVersion', [], { read: true });
    return typeof v === 'string' ? v : String(v);
  }

  /**
   * One call. A read (`read: true`) is sent once more when a kept-alive
   * connection turns out closed by the endpoint before it answered: that race happens whenever the
   * endpoint drops idle connections or restarts, and without the retry each one is reported as
   * an unreachable worker (a WorkerUnreachable / WorkerReachable pair on the record). Commands are
   * never re-sent: the endpoint may have acted on the first.
   */
  async call(method: string, params: unknown[], opts: { read?: boolean } = {}): Promise<unknown> {
    let res: Response;
    try {
      res = await this.post(method, params);
    } catch (e) {
      if (!(opts.read && connectionClosed(e))) throw this.unreachable(e);
      try {
        res = await this.post(method, params);
      } catch (again) {
        throw this.unreachable(again);
      }
    }
    const text = await res.text().catch(() => '');
    let body: { result?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new VenusWorkerUnreachableError(`damocles-worker admin API at ${this.shown} answered HTTP ${res.status} without JSON-RPC`);
    }
    if (body.error) {
      throw new JsonRpcCallError(typeof body.error.code === 'number' ? body.error.code : -32603, typeof body.error.message === 'string' ? body.error.message : 'error');
    }
    return body.result;
  }

  private post(method: string, params: unknown[]): Promise<Response> {
    const id = this.nextId++;
    return fetch(this.target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.authorization !== undefined ? { authorization: this.authorization } : {}) },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
  }

  private unreachable(e: unknown): VenusWorkerUnreachableError {
    const code = causeCode(e);
    // fetch's own messages may quote the URL, credentials and all.
    const why = code ? (TRANSPORT_WORDS[code] ? `${TRANSPORT_WORDS[code]} (${code})` : code) : (e instanceof Error ? e.message : String(e)).split(this.url).join(this.shown).split(this.target).join(this.shown);
    return new VenusWorkerUnreachableError(`damocles-worker admin API at ${this.shown} unreachable: ${why}`);
  }
}

/** What an operator reads for the transport codes fetch reports. */
const TRANSPORT_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed before an answer',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
};

function causeCode(e: unknown): string | undefined {
  const code = (e as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The endpoint closed a (kept-alive) connection it had not answered on. */
function connectionClosed(e: unknown): boolean {
  const code = causeCode(e);
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}
