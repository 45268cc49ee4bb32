// Time for the sealing simulator: wall-clock by default, a hand-driven clock in unit tests so
// that "10 steps later" is exact and nothing sleeps.

export interface SealingClock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: SealingClock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class ManualClock implements SealingClock {
  constructor(private t = Date.UTC(2025, 0, 1)) {}

  now(): number {
    return this.t;
  }

  advance(ms: number): number {
    if (!(ms >= 0)) throw new Error(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.t += ms;
    return this.t;
  }

  set(t: number): void {
    this.t = t;
  }
}
