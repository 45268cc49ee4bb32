// PushIntake: one batch of counted calls from one source (a metering proxy, an instrumented
// process, the collector's own scraper) checked and appended as ONE ApiCallsRecorded event.
// Checks, in order, each refusal counted by reason and logged once per source and reason:
//   schema  the published JSON Schema of the push request (docs/commands/stats-collector.push.request.json)
//   rules   what JSON Schema cannot say (unique keys, errors <= calls, histogram <= calls)
//   scope   the body's source is the subject's (ADR 0006: fleet.cmd.stats-collector.push.<source>)
//   window  a flush window the rollups can take: a divisor of 60 s, at least the minimum flush
//           window, aligned to its length (so it never spans two minutes), not in the future and
//           not older than the retention
// A refused batch stores nothing. An accepted one's event id is derived from source, window and
// part, so a batch pushed twice is stored once (duplicate: true).
import { ApiCallsRecorded, CommandErrorCodes, newEventFor, parseCommandRequest, StatsPush, validateApiCallsBatch, type ApiCallsBatch, type CommandReply, type CommandResultOf, type EventEnvelope } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import { batchEventId } from '../domain/batch-id';

// A body that is not JSON is refused by the command bus before it reaches the intake (reply
// invalid_request "request is not valid JSON"), so it is not among these reasons.
export const REFUSAL_REASONS = ['schema', 'rules', 'scope', 'window'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface BatchAppender {
  appendToStream(stream: string, events: readonly EventEnvelope[]): Promise<{ appended: number }>;
}

export interface PushIntakeOptions {
  /** Shortest flush window accepted, in seconds (a divisor of 60). */
  minWindowSeconds: number;
  /** Batches older than this are refused (their rows would be deleted by retention at once). */
  retentionMs: number;
  /** How far in the future a window may start (clock skew). */
  maxSkewMs?: number;
  host?: string;
  clock?: () => number;
}

type PushResult = CommandResultOf<typeof StatsPush>;

/** Remembered (source, reason) pairs already logged; beyond this many, refusals are only counted. */
const MAX_LOGGED = 10_000;

export class PushIntake {
  /** Batches refused, by reason. */
  readonly refused: Record<RefusalReason, number> = { schema: 0, rules: 0, scope: 0, window: 0 };
  /** Records in the refused batches, by reason (0 for a body without a records array). */
  readonly recordsRefused: Record<RefusalReason, number> = { schema: 0, rules: 0, scope: 0, window: 0 };
  accepted = 0;
  duplicates = 0;
  callsAccepted = 0;
  recordsAccepted = 0;
  recordsDuplicate = 0;
  private readonly logged = new Set<string>();
  private readonly clock: () => number;

  constructor(
    private readonly store: BatchAppender,
    private readonly log: Logger,
    private readonly opts: PushIntakeOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  /** The check alone (no append): a reason, or the batch typed. */
  check(raw: unknown, scope: string): { ok: true; batch: ApiCallsBatch } | { ok: false; reason: RefusalReason; message: string } {
    const parsed = parseCommandRequest(StatsPush, raw);
    if (!parsed.ok) return { ok: false, reason: 'schema', message: parsed.reason };
    const b = parsed.value;
    const rule = validateApiCallsBatch(b);
    if (rule) return { ok: false, reason: 'rules', message: rule };
    if (b.source !== scope) return { ok: false, reason: 'scope', message: `source "${b.source}" is not the subject's "${scope}": a source pushes on its own subject only` };
    const w = b.windowSeconds;
    if (60 % w !== 0 || w < this.opts.minWindowSeconds) {
      return { ok: false, reason: 'window', message: `windowSeconds ${w} must divide 60 and be at least ${this.opts.minWindowSeconds}` };
    }
    const start = Date.parse(b.windowStart);
    if (start % (w * 1000) !== 0) return { ok: false, reason: 'window', message: `windowStart ${b.windowStart} is not aligned to ${w} s` };
    const now = this.clock();
    if (start > now + (this.opts.maxSkewMs ?? 300_000)) return { ok: false, reason: 'window', message: `windowStart ${b.windowStart} is in the future` };
    if (start < now - this.opts.retentionMs) return { ok: false, reason: 'window', message: `windowStart ${b.windowStart} is older than the retention` };
    return { ok: true, batch: b };
  }

  /** A refusal: counted (the batch and its records), logged the first time for this source and reason. */
  refuse(reason: RefusalReason, message: string, scope: string, records = 0): CommandReply<PushResult> {
    this.refused[reason]++;
    this.recordsRefused[reason] += records;
    const key = `${scope}\u0000${reason}`;
    if (!this.logged.has(key) && this.logged.size < MAX_LOGGED) {
      this.logged.add(key);
      this.log.warn({ source: scope, reason, problem: message }, 'stats push refused (logged once per source and reason; counted in /metrics)');
    }
    return { ok: false, error: { code: CommandErrorCodes.invalidRequest, message: `${reason}: ${message}` } };
  }

  async push(raw: unknown, scope: string): Promise<CommandReply<PushResult>> {
    const c = this.check(raw, scope);
    if (!c.ok) return this.refuse(c.reason, c.message, scope, recordsIn(raw));
    return { ok: true, result: await this.append(c.batch) };
  }

  /** Appends a checked batch (the scraper's own batches come here directly). */
  async append(b: ApiCallsBatch): Promise<PushResult> {
    let calls = 0;
    for (const r of b.records) calls += r.calls;
    if (b.records.length === 0) return { records: 0, calls: 0, duplicate: false };
    const event = newEventFor(ApiCallsRecorded, b, { ...(this.opts.host ? { host: this.opts.host } : {}), actor: b.source }, { id: batchEventId(b), occurredAt: new Date(this.clock()) });
    const r = await this.store.appendToStream(event.stream, [event]);
    if (r.appended === 0) {
      this.duplicates++;
      this.recordsDuplicate += b.records.length;
      return { records: b.records.length, calls, duplicate: true };
    }
    this.accepted++;
    this.callsAccepted += calls;
    this.recordsAccepted += b.records.length;
    return { records: b.records.length, calls, duplicate: false };
  }
}

/** How many records a refused body carried, as far as it can be told (a body may be anything). */
function recordsIn(raw: unknown): number {
  const records = typeof raw === 'object' && raw !== null ? (raw as { records?: unknown }).records : undefined;
  return Array.isArray(records) ? records.length : 0;
}
