// The steady band (seed 001's rule): while a miner seals normally, its message-sending calls
// (MpoolPush, MpoolPushMessage, PushMessage … for PreCommitSector, ProveCommitSector,
// SubmitWindowedPoSt) stay in a band. The band is learned per caller from its own trailing history,
// never a fixed number; the first and last half hour of the data are ignored (start-up, and
// minutes not complete yet); a caller whose rate stays outside its band for `afterMs` gets a
// CallRateAnomaly, and a CallRateRecovered when it is back inside the band it left.
//
// Pure functions over per-minute counts. The rate of a minute is the mean of the `smoothMinutes`
// minutes ending with it (message sending is bursty minute to minute: a few calls a minute); the
// band is [q01 - slack, q99 + slack] of those rates over the history, slack = max(0.5, 20 % of the
// median), so that a quiet, regular caller does not get a band of zero width.

export interface BandSettings {
  /** Trailing history the band is learned from (default 24 h). */
  historyMs: number;
  /** How long the rate must stay outside before an anomaly (default 10 min). */
  afterMs: number;
  /** Ignored at the start of a caller's data and at its end (the newest minutes): default 30 min. */
  edgeMs: number;
  /** Minutes averaged into one rate (default 10). */
  smoothMinutes: number;
  /** Fewest minutes of history a band needs (default 60). */
  minHistoryMinutes: number;
}

export const DEFAULT_BAND_SETTINGS: BandSettings = { historyMs: 24 * 3_600_000, afterMs: 10 * 60_000, edgeMs: 30 * 60_000, smoothMinutes: 10, minHistoryMinutes: 60 };

export interface Band {
  low: number;
  high: number;
  median: number;
  historyMinutes: number;
}

/** Per-minute counts of one caller × component, from `startMs` (a minute), one number per minute. */
export interface MinuteSeries {
  startMs: number;
  counts: readonly number[];
}

export interface OpenAnomaly {
  band: Band;
  outsideSince: number;
  direction: 'above' | 'below';
}

export type BandDecision =
  | { kind: 'anomaly'; direction: 'above' | 'below'; band: Band; observedPerMin: number; outsideSince: number }
  | { kind: 'recovered'; band: Band; observedPerMin: number; anomalyMs: number; outsideSince: number };

const MINUTE = 60_000;

/** How far back a caller's minutes are needed to judge it now: the history, the ignored edge, the detection window and the smoothing. */
export function bandSpanMs(st: BandSettings): number {
  return st.historyMs + st.edgeMs + st.afterMs + (st.smoothMinutes + 60) * MINUTE;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The band of a list of rates (undefined with fewer than `minCount`). */
export function learnBand(rates: readonly number[], minCount: number): Band | undefined {
  if (rates.length < minCount) return undefined;
  const sorted = [...rates].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const slack = Math.max(0.5, 0.2 * median);
  return { low: Math.max(0, quantile(sorted, 0.01) - slack), high: quantile(sorted, 0.99) + slack, median, historyMinutes: rates.length };
}

/** Index of the first minute with a call, or -1. */
function firstActive(s: MinuteSeries): number {
  return s.counts.findIndex((c) => c > 0);
}

/** Mean rate of the `n` minutes ending at index i (fewer at the start of the series). */
function rateAt(s: MinuteSeries, i: number, n: number): number {
  let sum = 0;
  let k = 0;
  for (let j = Math.max(0, i - n + 1); j <= i; j++, k++) sum += s.counts[j]!;
  return k === 0 ? 0 : sum / k;
}

const side = (band: Band, r: number): 'above' | 'below' | undefined => (r > band.high ? 'above' : r < band.low ? 'below' : undefined);

/**
 * What the steady band says about a caller at `nowMs`: an anomaly to record, a recovery, or
 * nothing. Only minutes older than `edgeMs` are looked at, and only those at least `edgeMs` after
 * the caller's first call.
 */
export function evaluateBand(s: MinuteSeries, nowMs: number, st: BandSettings, open: OpenAnomaly | undefined): BandDecision | undefined {
  const w = judgedWindow(s, nowMs, st);
  if (!w) return undefined;
  const { begin, end } = w;
  const smooth = st.smoothMinutes;
  const after = Math.ceil(st.afterMs / MINUTE);

  if (open) {
    const r = rateAt(s, end, smooth);
    if (side(open.band, r) === undefined) {
      const at = s.startMs + (end + 1) * MINUTE;
      return { kind: 'recovered', band: open.band, observedPerMin: r, anomalyMs: Math.max(0, at - open.outsideSince), outsideSince: open.outsideSince };
    }
    return undefined;
  }

  const band = bandBefore(s, w, st);
  if (!band) return undefined;

  // Outside on one side for every one of the last `after` minutes?
  const dir = side(band, rateAt(s, end, smooth));
  if (!dir) return undefined;
  let since = end;
  while (since - 1 >= begin && side(band, rateAt(s, since - 1, smooth)) === dir) since--;
  if (end - since + 1 < after) return undefined;
  // The rate over the minutes outside (what the caller did, not one minute of it).
  let sum = 0;
  for (let i = since; i <= end; i++) sum += s.counts[i]!;
  return { kind: 'anomaly', direction: dir, band, observedPerMin: sum / (end - since + 1), outsideSince: s.startMs + since * MINUTE };
}

/**
 * The minutes the watcher judges at `nowMs` (indexes into the series): from `edgeMs` after the
 * caller's first call to the newest complete minute older than `edgeMs`; undefined when none.
 */
function judgedWindow(s: MinuteSeries, nowMs: number, st: BandSettings): { begin: number; end: number } | undefined {
  const first = firstActive(s);
  if (first < 0) return undefined;
  const edge = Math.ceil(st.edgeMs / MINUTE);
  const end = Math.min(s.counts.length, Math.floor((nowMs - s.startMs) / MINUTE)) - 1 - edge;
  const begin = first + edge;
  return end < begin ? undefined : { begin, end };
}

/** The band learned from the history before the minutes being checked (and their smoothing). */
function bandBefore(s: MinuteSeries, w: { begin: number; end: number }, st: BandSettings): Band | undefined {
  const smooth = st.smoothMinutes;
  const histEnd = w.end - Math.ceil(st.afterMs / MINUTE) - smooth; // inclusive
  const histBegin = Math.max(w.begin + smooth - 1, w.end - Math.floor(st.historyMs / MINUTE));
  const rates: number[] = [];
  for (let i = histBegin; i <= histEnd; i++) rates.push(rateAt(s, i, smooth));
  return learnBand(rates, st.minHistoryMinutes);
}

export interface BandView {
  /** The band the rate is judged against now: an open anomaly's, else the one learned now. */
  band: Band | undefined;
  /** Minute (ms) of the first rate. */
  fromMs: number;
  /** Smoothed rate of each minute judged, up to `minutes` of the newest. */
  rates: number[];
  /** Side of the band the newest rate is on. */
  outside: 'above' | 'below' | undefined;
}

/** What a chart of the steady band shows for one caller at `nowMs`: the rates the watcher judges, and its band. */
export function bandView(s: MinuteSeries, nowMs: number, st: BandSettings, open: OpenAnomaly | undefined, minutes: number): BandView | undefined {
  const w = judgedWindow(s, nowMs, st);
  if (!w) return undefined;
  const band = open?.band ?? bandBefore(s, w, st);
  // From the first minute with a full smoothing window: before it the mean counts minutes before the caller's first call.
  const first = Math.max(w.begin + st.smoothMinutes - 1, w.end - minutes + 1);
  if (first > w.end) return undefined;
  const rates: number[] = [];
  for (let i = first; i <= w.end; i++) rates.push(rateAt(s, i, st.smoothMinutes));
  return { band, fromMs: s.startMs + first * MINUTE, rates, outside: band ? side(band, rates.at(-1)!) : undefined };
}
