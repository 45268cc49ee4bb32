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

  constructor(
    readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.shown = shownUrl(url);
  }

  workerList(): Promise<unknown> {
    return this.call('VenusWorker.WorkerList', []);
  }

  async workerPause(index: number): Promise<boolean> {
    return (await this.call('VenusWorker.WorkerPause', [index])) === true;
  }

  async workerResume(index: number, setTo: string | undefined): Promise<boolean> {
    return (await this.call('VenusWorker.WorkerResume', [index, setTo ?? null])) === true;
  }

  async workerVersion(): Promise<string> {
    const v = await this.call('VenusWorker.WorkerVersion', []);
    return typeof v === 'string' ? v : String(v);
  }

  async call(method: string, params: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method, params, id }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code;
      throw new VenusWorkerUnreachableError(`damocles-worker admin API at ${this.shown} unreachable: ${cause ?? (e instanceof Error ? e.message : String(e))}`);
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
}
