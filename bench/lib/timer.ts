// Monotonic timing for the bench: milliseconds as floats from process.hrtime, and a stopwatch.
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export class Stopwatch {
  private readonly startedAt = nowMs();

  elapsedMs(): number {
    return nowMs() - this.startedAt;
  }

  elapsedSeconds(): number {
    return this.elapsedMs() / 1000;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Events per second, rounded to a whole number. */
export function rate(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((count * 1000) / elapsedMs) : 0;
}

/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one
 * machine (both read the same system clock at start, then advance on the monotonic clock).
 */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
