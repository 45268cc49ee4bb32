// Fault switches and request counters of the node: plain state the transports consult per
// request. Dropping WebSockets needs the server, so that switch calls back into it.
import type { DevnetFaults, DevnetRequestStats } from './api';

export interface FaultState {
  webSocketsDropped: boolean;
  delayMs: number;
  /** undefined = every method. */
  delayMethods?: string[];
  /** Requests still to fail; Infinity = until reset. Serialised as null in JSON. */
  failRemaining: number;
  failMethods?: string[];
  malformedParams: boolean;
}

export class FaultSwitches implements DevnetFaults {
  private s: FaultState = FaultSwitches.clean();

  constructor(private readonly onDropWebSockets: () => void) {}

  private static clean(): FaultState {
    return { webSocketsDropped: false, delayMs: 0, failRemaining: 0, malformedParams: false };
  }

  dropWebSockets(): void {
    this.s.webSocketsDropped = true;
    this.onDropWebSockets();
  }

  allowWebSockets(): void {
    this.s.webSocketsDropped = false;
  }

  delayResponses(ms: number, methods?: string[]): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay must be a finite number of ms >= 0, got ${ms}`);
    this.s.delayMs = ms;
    this.s.delayMethods = methods && [...methods];
  }

  failResponses(count: number, methods?: string[]): void {
    if (!(count >= 0) || (Number.isFinite(count) && !Number.isInteger(count))) throw new RangeError(`count must be an integer >= 0 or Infinity, got ${count}`);
    this.s.failRemaining = count;
    this.s.failMethods = methods && [...methods];
  }

  malformedParams(on: boolean): void {
    this.s.malformedParams = on;
  }

  reset(): void {
    this.s = FaultSwitches.clean();
  }

  get webSocketsDropped(): boolean {
    return this.s.webSocketsDropped;
  }

  get paramsMalformed(): boolean {
    return this.s.malformedParams;
  }

  /** Delay to apply before answering `method` (0 = none). */
  delayFor(method: string): number {
    if (this.s.delayMs <= 0) return 0;
    return !this.s.delayMethods || this.s.delayMethods.includes(method) ? this.s.delayMs : 0;
  }

  /** True when this request must fail; consumes one of the remaining failures. */
  takeFailure(method: string): boolean {
    if (this.s.failRemaining <= 0) return false;
    if (this.s.failMethods && !this.s.failMethods.includes(method)) return false;
    this.s.failRemaining -= 1; // Infinity stays Infinity
    return true;
  }

  snapshot(): FaultState {
    return { ...this.s, ...(this.s.delayMethods ? { delayMethods: [...this.s.delayMethods] } : {}), ...(this.s.failMethods ? { failMethods: [...this.s.failMethods] } : {}) };
  }
}

export class RequestCounter {
  private byMethod = new Map<string, number>();
  private byPath = new Map<string, number>();
  private total = 0;

  count(method: string, abciPath?: string): void {
    this.total += 1;
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
    if (abciPath !== undefined) this.byPath.set(abciPath, (this.byPath.get(abciPath) ?? 0) + 1);
  }

  stats(): DevnetRequestStats {
    return { byMethod: Object.fromEntries(this.byMethod), abciQueriesByPath: Object.fromEntries(this.byPath), total: this.total };
  }

  reset(): void {
    this.byMethod.clear();
    this.byPath.clear();
    this.total = 0;
  }
}
