// Capped exponential backoff, shared by the relay (publish/read retries) and consumers (nak delays).
// Pure: the random source is injectable so tests can pin the jitter.

export interface BackoffOptions {
  /** Delay before the first retry (attempt 1). */
  initialMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * Fraction of the delay that is randomised (0 = none, 0.2 = the delay is drawn from
   * [0.8 d, d]). Spreads retries of many processes after a shared outage. Default 0.
   */
  jitter?: number;
}

/**
 * Delay before retry number `attempt` (1-based): `initialMs * factor^(attempt-1)`, capped at maxMs,
 * minus up to `jitter` of itself. Attempts below 1 count as 1.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const factor = opts.factor ?? 2;
  const jitter = Math.min(Math.max(opts.jitter ?? 0, 0), 1);
  const initial = Math.max(0, opts.initialMs);
  const max = Math.max(initial, opts.maxMs);
  const n = Math.max(1, Math.floor(Number.isFinite(attempt) ? attempt : 1));
  // Exponent capped so that huge attempt counts cannot overflow to Infinity/NaN.
  const raw = initial * Math.pow(factor, Math.min(n - 1, 64));
  const capped = Number.isFinite(raw) ? Math.min(raw, max) : max;
  const delay = capped - capped * jitter * random();
  return Math.max(0, Math.round(delay));
}

export function validateBackoff(opts: BackoffOptions, what: string): void {
  if (!(opts.initialMs >= 0) || !(opts.maxMs >= opts.initialMs)) {
    throw new Error(`${what}: backoff needs 0 <= initialMs <= maxMs, got ${opts.initialMs} / ${opts.maxMs}`);
  }
  if (opts.factor !== undefined && !(opts.factor >= 1)) throw new Error(`${what}: backoff factor must be >= 1`);
}

/**
 * A sleep that can be cut short (stop, wake-up). A wake-up that arrives while nobody sleeps is kept
 * and ends the next sleep at once, so a notification is never lost between two checks.
 */
export class Sleeper {
  private wake: (() => void) | undefined;
  private pending = false;

  /** Resolves true when woken, false when the time ran out. */
  sleep(ms: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve(true);
      };
    });
  }

  /** Ends the current sleep, or the next one if nobody sleeps now. */
  interrupt(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }
}
