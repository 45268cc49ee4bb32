// The queries behind `fleetvisor stats …` and the gateway's charts. Each reads the smallest view
// of the rollups that has the dimensions it groups or filters by, at the coarsest resolution its
// step (or its range, for totals) allows, and each stretch of time from exactly one resolution:
// the finest still stored there (fv_stats_cuts). A step finer than what is stored for a time puts
// a coarser row's counts in the step its bucket starts in; totals are exact at any step.
import type { Pool } from 'pg';
import { CommandErrorCodes, type CommandRequestOf, type CommandResultOf, type StatsAnomalies, type StatsBands, type StatsCalls, type StatsDimension, type StatsTop } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging/core';
import { histogramQuantile, LATENCY_BUCKET_COUNT } from '../domain/latency';
import { LAT_COLUMNS, RESOLUTION_LIST, resolutionFilter, VIEWS, type View } from '../projection/rollup-sql';
import { denseSeries, readMinuteCounts, readOpenAnomalies } from '../anomaly/minute-counts';
import { bandSpanMs, bandView, DEFAULT_BAND_SETTINGS, type BandSettings } from '../anomaly/steady-band';

const MAX_POINTS = 10_000;
const DIMENSION_COLUMN: Record<StatsDimension, string> = { caller: 'caller', component: 'component', method: 'method' };

interface Filter {
  caller?: string;
  component?: string;
  method?: string;
}

/** The smallest view holding every dimension the query groups or filters by. */
export function viewFor(by: StatsDimension | undefined, f: Filter): View {
  const dims = new Set<StatsDimension>();
  if (by) dims.add(by);
  for (const d of ['caller', 'component', 'method'] as const) if (f[d] !== undefined) dims.add(d);
  if (!dims.has('method')) return VIEWS.callerComponent;
  if (!dims.has('caller')) return VIEWS.componentMethod;
  return VIEWS.full;
}

const VIEW_DIMENSIONS: Record<View, readonly StatsDimension[]> = { [VIEWS.full]: ['caller', 'component', 'method'], [VIEWS.callerComponent]: ['caller', 'component'], [VIEWS.componentMethod]: ['component', 'method'] };

/** The view's rows are one per series key and bucket: its dimensions are the key and the filters, exactly. */
export function exactGrouping(view: View, by: StatsDimension | undefined, f: Filter): boolean {
  if (!by) return false;
  return VIEW_DIMENSIONS[view].every((d) => d === by || f[d] !== undefined);
}

/** The coarsest stored resolution that divides every one of the given lengths of time (seconds). */
export function resolutionFor(...seconds: number[]): number {
  let best = RESOLUTION_LIST[0]!;
  for (const r of RESOLUTION_LIST) if (seconds.every((s) => s % r === 0)) best = r;
  return best;
}

/** WHERE clause of a view, resolution, range and filter, its parameters numbered from $1 (from, to first). */
function where(view: View, res: number, from: Date, to: Date, f: Filter): { sql: string; values: unknown[] } {
  const values: unknown[] = [from, to];
  const param = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const parts = [`view = ${view}`, 'bucket >= $1::timestamptz', 'bucket < $2::timestamptz'];
  for (const col of ['caller', 'component', 'method'] as const) {
    const v = f[col];
    if (v !== undefined) parts.push(`${col} = ${param(v)}::text`);
  }
  parts.push(resolutionFilter(res));
  return { sql: parts.join(' AND '), values };
}

const ROW_COLUMNS = `calls::float8 AS calls, errors::float8 AS errors, transport_errors::float8 AS transport_errors, ${LAT_COLUMNS.map((c) => `${c}::float8 AS ${c}`).join(', ')}`;
const SUMS = `sum(calls)::float8 AS calls, sum(errors)::float8 AS errors, sum(transport_errors)::float8 AS transport_errors, ${LAT_COLUMNS.map((c) => `sum(${c})::float8 AS ${c}`).join(', ')}`;

interface SumRow {
  calls: number;
  errors: number;
  transport_errors: number;
  [lat: string]: number | string;
}

interface Totals {
  calls: number;
  errors: number;
  transportErrors: number;
  hist: number[];
}

function newTotals(): Totals {
  return { calls: 0, errors: 0, transportErrors: 0, hist: new Array<number>(LATENCY_BUCKET_COUNT).fill(0) };
}

function addRow(t: Totals, r: SumRow): void {
  t.calls += r.calls;
  t.errors += r.errors;
  t.transportErrors += r.transport_errors;
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) t.hist[i]! += Number(r[`l${i}`]);
}

function publicTotals(t: Totals): { calls: number; errors: number; transportErrors: number; p50Ms: number | null; p99Ms: number | null } {
  return { calls: t.calls, errors: t.errors, transportErrors: t.transportErrors, p50Ms: histogramQuantile(t.hist, 0.5), p99Ms: histogramQuantile(t.hist, 0.99) };
}

function range(from: string, to: string): { from: Date; to: Date } {
  const f = new Date(from);
  const t = new Date(to);
  if (!(t.getTime() > f.getTime())) throw new CommandFailure(CommandErrorCodes.invalidRequest, `to (${to}) must be after from (${from})`);
  return { from: f, to: t };
}

export interface BandQueryOptions {
  /** The band watcher's settings: a chart shows the band the watcher judges against. */
  band: BandSettings;
  /** Watched methods (a regular expression, as the watcher's). */
  methods: string;
  methodsName: string;
  clock?: () => number;
}

const MINUTE = 60_000;
const round2 = (n: number) => Math.round(n * 100) / 100;

export class StatsQueries {
  constructor(
    private readonly pool: Pool,
    private readonly bandOpts: BandQueryOptions = { band: DEFAULT_BAND_SETTINGS, methods: '.', methodsName: 'all' },
  ) {}

  /** Each caller × component's steady band and the rates it is judged on (what the watcher sees now). */
  async bands(req: CommandRequestOf<typeof StatsBands>): Promise<CommandResultOf<typeof StatsBands>> {
    const st = this.bandOpts.band;
    const now = (this.bandOpts.clock ?? Date.now)();
    const startMs = Math.floor((now - bandSpanMs(st)) / MINUTE) * MINUTE;
    const length = Math.floor((now - startMs) / MINUTE);
    const counts = await readMinuteCounts(this.pool, {
      fromMinute: startMs,
      methods: this.bandOpts.methods,
      ...(req.caller !== undefined ? { caller: req.caller } : {}),
      ...(req.component !== undefined ? { component: req.component } : {}),
    });
    const open = await readOpenAnomalies(this.pool, this.bandOpts.methodsName);
    const busiest = [...counts.entries()]
      .map(([key, m]) => ({ key, m, total: [...m.values()].reduce((a, b) => a + b, 0) }))
      .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1))
      .slice(0, req.limit ?? 20);
    const bands: CommandResultOf<typeof StatsBands>['bands'] = [];
    for (const { key, m } of busiest) {
      const v = bandView(denseSeries(m, startMs, length), now, st, open.get(key), req.minutes ?? 360);
      if (!v) continue;
      const [caller, component] = key.split('\u0000') as [string, string];
      bands.push({
        caller,
        component,
        band: v.band ? { low: round2(v.band.low), high: round2(v.band.high), median: round2(v.band.median), historyMinutes: v.band.historyMinutes } : null,
        from: new Date(v.fromMs).toISOString(),
        rates: v.rates.map(round2),
        outside: v.outside ?? null,
      });
    }
    return { methods: this.bandOpts.methodsName, smoothMinutes: st.smoothMinutes, bands };
  }

  async calls(req: CommandRequestOf<typeof StatsCalls>): Promise<CommandResultOf<typeof StatsCalls>> {
    const step = req.stepSeconds;
    if (step % 60 !== 0) throw new CommandFailure(CommandErrorCodes.invalidRequest, `stepSeconds ${step} is not a multiple of 60`);
    // Steps are aligned to the epoch (a 1-hour step starts on the hour), so the range is widened
    // to whole steps: every point covers a full step.
    const asked = range(req.from, req.to);
    const stepMs = step * 1000;
    const from = new Date(Math.floor(asked.from.getTime() / stepMs) * stepMs);
    const to = new Date(Math.ceil(asked.to.getTime() / stepMs) * stepMs);
    const points = Math.ceil((to.getTime() - from.getTime()) / (step * 1000));
    if (points > MAX_POINTS) throw new CommandFailure(CommandErrorCodes.invalidRequest, `${points} steps of ${step} s: at most ${MAX_POINTS}; use a larger step`);
    const view = viewFor(req.by, req);
    const res = resolutionFor(step);
    const w = where(view, res, from, to, req);
    const key = req.by ? DIMENSION_COLUMN[req.by] : `'all'::text`;
    // When the rows already have the query's grouping (the view's dimensions are exactly the series
    // key and the filters, and its resolution is the step), they are read as they are: no
    // aggregate. Otherwise they are summed per key and step in SQL.
    const sql = exactGrouping(view, req.by, req) && res === step
      ? `SELECT ${key} AS key, bucket AS at, ${ROW_COLUMNS} FROM fv_stats_rollups WHERE ${w.sql}`
      : `SELECT ${key} AS key, date_bin('${step} seconds', bucket, $1::timestamptz) AS at, ${SUMS} FROM fv_stats_rollups WHERE ${w.sql} GROUP BY 1, 2`;
    const r = await this.pool.query<SumRow & { key: string; at: Date }>(sql, w.values);
    const series = new Map<string, { points: number[]; totals: Totals }>();
    for (const row of r.rows) {
      let s = series.get(row.key);
      if (!s) {
        s = { points: new Array<number>(points).fill(0), totals: newTotals() };
        series.set(row.key, s);
      }
      s.points[Math.floor((row.at.getTime() - from.getTime()) / stepMs)]! += row.calls;
      addRow(s.totals, row);
    }
    const ranked = [...series.entries()].sort((a, b) => b[1].totals.calls - a[1].totals.calls || (a[0] < b[0] ? -1 : 1));
    const limit = req.limit ?? 20;
    let others = 0;
    for (const [, s] of ranked.slice(limit)) others += s.totals.calls;
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      stepSeconds: step,
      series: ranked.slice(0, limit).map(([k, s]) => ({ key: k, points: s.points, ...publicTotals(s.totals) })),
      others,
    };
  }

  async top(req: CommandRequestOf<typeof StatsTop>): Promise<CommandResultOf<typeof StatsTop>> {
    const { from, to } = range(req.from, req.to);
    const w = where(viewFor(req.by, req), resolutionFor(from.getTime() / 1000, to.getTime() / 1000), from, to, req);
    const col = DIMENSION_COLUMN[req.by];
    const r = await this.pool.query<SumRow & { key: string }>(`SELECT ${col} AS key, ${SUMS} FROM fv_stats_rollups WHERE ${w.sql} GROUP BY 1`, w.values);
    const total = newTotals();
    const rows = r.rows.map((row) => {
      addRow(total, row);
      const t = newTotals();
      addRow(t, row);
      return { key: row.key, ...publicTotals(t) };
    });
    rows.sort((a, b) => b.calls - a.calls || (a.key < b.key ? -1 : 1));
    return { rows: rows.slice(0, req.limit ?? 10), total: publicTotals(total) };
  }

  async anomalies(req: CommandRequestOf<typeof StatsAnomalies>): Promise<CommandResultOf<typeof StatsAnomalies>> {
    const values: unknown[] = [];
    const parts: string[] = [];
    if (req.caller) {
      values.push(req.caller);
      parts.push(`caller = $${values.length}`);
    }
    if (req.since) {
      values.push(new Date(req.since));
      parts.push(`detected_at >= $${values.length}`);
    }
    if (req.open) parts.push('recovered_at IS NULL');
    values.push(req.limit ?? 100);
    const r = await this.pool.query<{
      caller: string;
      component: string;
      methods: string;
      direction: 'above' | 'below';
      band: { low: number; high: number; median: number; historyMinutes: number };
      observed_per_min: number;
      outside_since: Date;
      detected_at: Date;
      recovered_at: Date | null;
      recovered_per_min: number | null;
    }>(`SELECT * FROM fv_stats_anomalies ${parts.length ? `WHERE ${parts.join(' AND ')}` : ''} ORDER BY detected_at DESC LIMIT $${values.length}`, values);
    return {
      anomalies: r.rows.map((a) => ({
        caller: a.caller,
        component: a.component,
        methods: a.methods,
        direction: a.direction,
        band: a.band,
        observedPerMin: a.observed_per_min,
        outsideSince: a.outside_since.toISOString(),
        detectedAt: a.detected_at.toISOString(),
        recoveredAt: a.recovered_at ? a.recovered_at.toISOString() : null,
        recoveredPerMin: a.recovered_per_min,
      })),
    };
  }
}
