// What a receiver does with something it refused (a forged chain event, a command without a valid
// identity, a report for another identity): count it (for metrics), log it with its subject and why,
// and report it as an event, at most once per source per window. Every refusal is counted and logged;
// only the reports to the event log are limited, so a flood of forgeries costs one event per source
// per minute, not one per forgery. Generic over the kind: chain events, commands and reports share it.
import type { EventData, ForgeryRejected, RefusalKind } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';

export type { RefusalKind };

export interface Refusal {
  kind: RefusalKind;
  /**
   * Where it came from, the unit of the rate limit: something the sender cannot multiply at will
   * (an event stream, a command subject without its variable parts), never a claimed signer.
   */
  source: string;
  /** Subject (or stream and type) of the refused message. */
  subject: string;
  /** Short class for metrics (unauthorized, forbidden, unconfirmed, malformed ...): a small, fixed set. */
  code: string;
  /** Why, for people: logged and reported. */
  reason: string;
  /** Id the message claimed (event id, command id). */
  id?: string;
  /** Signer named by the certificate that came with it: claimed, not verified. */
  signer?: { name?: string; kid?: string };
}

/** One report: the last refusal of a source and how many since its previous report. */
export interface RefusalReport extends Refusal {
  /** Refusals of this source since its previous report, this one included. */
  refused: number;
}

export interface RefusalCount {
  kind: RefusalKind;
  code: string;
  count: number;
}

export interface RefusalReporterOptions {
  logger: Logger;
  /** Turns a report into an event (ForgeryRejected); called at most once per source per window. */
  onReport: (report: RefusalReport) => void;
  /** Default 60 s. */
  windowMs?: number;
  /**
   * Most sources tracked at once; refusals of further sources share one ('*'), so that made-up
   * sources cannot grow memory or the number of reports (default 1000).
   */
  maxSources?: number;
  now?: () => number;
}

interface SourceWindow {
  /** When this source was last reported (0: never). */
  reportedAt: number;
  /** Refusals since then, and the last of them. */
  pending: number;
  last: Refusal | undefined;
  timer: NodeJS.Timeout | undefined;
}

export const OVERFLOW_SOURCE = '*';

export class RefusalReporter {
  private readonly counts = new Map<string, RefusalCount>();
  private readonly sources = new Map<string, SourceWindow>();
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly opts: RefusalReporterOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxSources = opts.maxSources ?? 1000;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger.child({ component: 'refusals' });
  }

  /** Counts, logs and (if the source's window allows) reports one refusal. */
  refuse(r: Refusal): void {
    const key = `${r.kind}|${r.code}`;
    const c = this.counts.get(key) ?? { kind: r.kind, code: r.code, count: 0 };
    c.count++;
    this.counts.set(key, c);
    this.log.warn(
      { kind: r.kind, subject: r.subject, source: r.source, code: r.code, reason: r.reason, ...(r.id ? { id: r.id } : {}), ...(r.signer ? { claimedSigner: r.signer } : {}) },
      `refused ${r.kind} on ${r.subject}: ${r.reason}`,
    );
    if (this.stopped) return;
    const source = this.sources.has(r.source) || this.sources.size < this.maxSources ? r.source : OVERFLOW_SOURCE;
    let w = this.sources.get(source);
    if (!w) {
      w = { reportedAt: 0, pending: 0, last: undefined, timer: undefined };
      this.sources.set(source, w);
    }
    w.pending++;
    w.last = source === r.source ? r : { ...r, source };
    const due = w.reportedAt === 0 ? 0 : w.reportedAt + this.windowMs - this.now();
    if (due <= 0) this.flush(source);
    else if (!w.timer) {
      // The rest of the window's refusals go out in one report when it ends.
      w.timer = setTimeout(() => this.flush(source), due);
      w.timer.unref();
    }
  }

  /** Refusals so far, by kind and code (what /metrics exposes). */
  totals(): RefusalCount[] {
    return [...this.counts.values()].map((c) => ({ ...c }));
  }

  total(kind?: RefusalKind): number {
    let n = 0;
    for (const c of this.counts.values()) if (!kind || c.kind === kind) n += c.count;
    return n;
  }

  /** Reports what is pending now (at shutdown) and stops reporting; refusals are still counted and logged. */
  stop(): void {
    if (this.stopped) return;
    for (const source of this.sources.keys()) this.flush(source);
    this.stopped = true;
    for (const w of this.sources.values()) clearTimeout(w.timer);
  }

  private flush(source: string): void {
    const w = this.sources.get(source);
    if (!w) return;
    clearTimeout(w.timer);
    w.timer = undefined;
    if (w.pending === 0 || !w.last) return;
    const report: RefusalReport = { ...w.last, refused: w.pending };
    w.pending = 0;
    w.last = undefined;
    w.reportedAt = this.now();
    try {
      this.opts.onReport(report);
    } catch (e) {
      this.log.error({ err: (e as Error).message, source }, 'refusal report not recorded');
    }
  }
}

/** The ForgeryRejected data of a report, cut to the event's bounds. */
export function forgeryRejectedData(host: string, r: RefusalReport): EventData<typeof ForgeryRejected> {
  return {
    host,
    kind: r.kind,
    source: r.source.slice(0, 300) || 'unknown',
    subject: r.subject.slice(0, 300) || 'unknown',
    reason: r.reason.slice(0, 1000) || r.code,
    refused: r.refused,
    ...(r.id ? { eventId: r.id.slice(0, 200) } : {}),
    ...(r.signer?.name ? { signerName: r.signer.name.slice(0, 100) } : {}),
    ...(r.signer?.kid ? { signerKid: r.signer.kid.slice(0, 100) } : {}),
  };
}
