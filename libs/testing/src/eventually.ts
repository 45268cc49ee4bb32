// Poll-until helpers: wait for a condition instead of sleeping.
export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: string;
}

/** Retries `fn` until it stops throwing (returns its value), or rethrows the last error at the timeout. */
export async function expectEventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 25;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const msg = opts.message ? `${opts.message}: ` : '';
      const err = new Error(`${msg}condition not met within ${timeoutMs} ms: ${(lastError as Error)?.message ?? String(lastError)}`);
      (err as Error & { cause?: unknown }).cause = lastError;
      throw err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits until `predicate` returns true. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, opts: EventuallyOptions = {}): Promise<void> {
  await expectEventually(async () => {
    if (!(await predicate())) throw new Error(opts.message ?? 'predicate still false');
  }, opts);
}
