// The steady band over the rollups: every interval, the per-minute counts of watched calls
// (message sending) per caller × component are brought up to date in memory (only the newest
// minutes are read again; everything once an hour, for batches that came very late), each caller
// is evaluated (steady-band.ts), and anomalies and recoveries are appended as events. Event ids
// are derived from caller, component and the minute the rate left its band, so a restart or a
// second collector records each one once. Open anomalies are read back from the projection at
// start.
import type { Pool } from 'pg';
import { deterministicEventId, CallRateAnomaly, CallRateRecovered, newEventFor, type EventEnvelope } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { CollectorPart } from '../stats-collector';
import { bandSpanMs, evaluateBand, type BandDecision, type BandSettings, type OpenAnomaly } from './steady-band';
import { denseSeries, readMinuteCounts, readOpenAnomalies, type MinuteCounts } from './minute-counts';

export const WATCHED_METHODS_NAME = 'message-sending';
const MINUTE = 60_000;
const FULL_RELOAD_MS = 3_600_000;

export interface EventAppender {
  appendToStream(stream: string, events: readonly EventEnvelope[]): Promise<{ appended: number }>;
}

export interface BandWatcherOptions {
  band: BandSettings;
  /** Watched methods: a regular expression, evaluated by Postgres (`method ~ $1`). */
  methods: string;
  intervalMs: number;
  host?: string;
  clock?: () => number;
}

export class BandWatcher implements CollectorPart {
  private readonly minutes: MinuteCounts = new Map();
  private readonly open = new Map<string, OpenAnomaly>();
  private loadedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  anomalies = 0;
  recoveries = 0;

  /** Callers (× component) whose rate is outside its band now, by direction (open anomalies). */
  outsideBand(): { above: number; below: number } {
    const n = { above: 0, below: 0 };
    for (const a of this.open.values()) n[a.direction]++;
    return n;
  }

  constructor(
    private readonly pool: Pool,
    private readonly store: EventAppender,
    private readonly log: Logger,
    private readonly opts: BandWatcherOptions,
  ) {}

  private now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  async start(): Promise<void> {
    for (const [key, a] of await readOpenAnomalies(this.pool, WATCHED_METHODS_NAME)) this.open.set(key, a);
    if (this.opts.intervalMs > 0) {
      this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
      this.timer.unref();
    }
  }

  /** One round: refresh, evaluate every caller, record what changed. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.round()
      .catch((e: unknown) => this.log.warn({ err: e }, 'steady band round failed; tried again next interval'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private span(): number {
    return bandSpanMs(this.opts.band);
  }

  private async refresh(now: number): Promise<void> {
    const full = now - this.loadedAt > FULL_RELOAD_MS;
    const from = full ? now - this.span() : now - this.opts.band.edgeMs - 15 * MINUTE;
    const fromMinute = Math.floor(from / MINUTE) * MINUTE;
    if (full) this.minutes.clear();
    else for (const m of this.minutes.values()) for (const t of [...m.keys()]) if (t >= fromMinute) m.delete(t);
    await readMinuteCounts(this.pool, { fromMinute, methods: this.opts.methods }, this.minutes, full);
    if (full) this.loadedAt = now;
    const oldest = now - this.span();
    for (const [key, m] of this.minutes) {
      for (const t of [...m.keys()]) if (t < oldest) m.delete(t);
      if (m.size === 0 && !this.open.has(key)) this.minutes.delete(key);
    }
  }

  private async round(): Promise<void> {
    const now = this.now();
    await this.refresh(now);
    const startMs = Math.floor((now - this.span()) / MINUTE) * MINUTE;
    const length = Math.floor((now - startMs) / MINUTE);
    for (const [key, m] of this.minutes) {
      const d = evaluateBand(denseSeries(m, startMs, length), now, this.opts.band, this.open.get(key));
      if (d) await this.record(key, d, now);
    }
  }

  private async record(key: string, d: BandDecision, now: number): Promise<void> {
    const [caller, component] = key.split('\u0000') as [string, string];
    const band = { low: round(d.band.low), high: round(d.band.high), median: round(d.band.median), historyMinutes: d.band.historyMinutes };
    const meta = { ...(this.opts.host ? { host: this.opts.host } : {}), actor: 'stats-collector' };
    const base = { caller, component, methods: WATCHED_METHODS_NAME, band, observedPerMin: round(d.observedPerMin) };
    const since = new Date(d.outsideSince).toISOString();
    const event =
      d.kind === 'anomaly'
        ? newEventFor(CallRateAnomaly, { ...base, direction: d.direction, outsideSince: since }, meta, { id: deterministicEventId(d.outsideSince, `CallRateAnomaly\u0000${key}\u0000${since}`), occurredAt: new Date(now) })
        : newEventFor(CallRateRecovered, { ...base, anomalyMs: Math.round(d.anomalyMs) }, meta, { id: deterministicEventId(now, `CallRateRecovered\u0000${key}\u0000${since}`), occurredAt: new Date(now) });
    await this.store.appendToStream(event.stream, [event]);
    if (d.kind === 'anomaly') {
      this.anomalies++;
      this.open.set(key, { band: d.band, outsideSince: d.outsideSince, direction: d.direction });
      this.log.warn({ caller, component, direction: d.direction, band, observedPerMin: base.observedPerMin }, 'call rate left its steady band');
    } else {
      this.recoveries++;
      this.open.delete(key);
      this.log.info({ caller, component, anomalyMs: Math.round(d.anomalyMs) }, 'call rate back in its steady band');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
