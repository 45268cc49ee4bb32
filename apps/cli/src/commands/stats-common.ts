// Shared by the `fleetvisor stats …` commands: asking the stats-collector over the bus, the time
// range options (--since 6h | --from … --to …), the step, and the terminal chart (asciichart, fit
// into 80 columns) with its table of totals.
import * as asciichart from 'asciichart';
import { createSubjects, type CommandDefinition, type CommandRequestOf, type CommandResultOf, type StatsSeries } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { createLogger, parseDuration, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { table } from './worker-common';
import { askRemote, REMOTE_OPTIONS, type Remote } from '../remote';

export class StatsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(code === 'unavailable' && /no stats-collector instance/.test(message) ? `${message} (is 'fleetvisor stats-collector run' running?)` : message);
    this.name = 'StatsError';
  }
}

export async function askStats<C extends CommandDefinition>(def: C, payload: CommandRequestOf<C>, timeoutMs = 30_000, remote?: Remote): Promise<CommandResultOf<C>> {
  if (remote) {
    const reply = await askRemote(remote, def, payload, timeoutMs);
    if (!reply.ok) throw new StatsError(reply.error.code, reply.error.message);
    return reply.result as CommandResultOf<C>;
  }
  const config = loadCliConfig();
  const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
  const nc = await connectNats(config, logger, { name: 'fleetvisor-cli' });
  try {
    const bus = new CommandBus({ nc, subjects: createSubjects(config.subjectRoot), logger });
    const reply = await bus.request(def, payload, { timeoutMs });
    if (!reply.ok) throw new StatsError(reply.error.code, reply.error.message);
    return reply.result as CommandResultOf<C>;
  } finally {
    await nc.close();
  }
}

export const RANGE_OPTIONS = {
  since: { type: 'string', description: 'how far back from now (default 6h)', placeholder: 'duration' },
  from: { type: 'string', description: 'start of the range (ISO time), instead of --since', placeholder: 'time' },
  to: { type: 'string', description: 'end of the range (ISO time, default now)', placeholder: 'time' },
  caller: { type: 'string', description: 'only this caller', placeholder: 'name' },
  component: { type: 'string', description: 'only this component (the service called)', placeholder: 'name' },
  method: { type: 'string', description: 'only this method', placeholder: 'name' },
  json: { type: 'boolean', description: 'the answer as one JSON object' },
  ...REMOTE_OPTIONS,
} as const;

/** The range of --since / --from / --to, at `now`. */
export function parseRange(o: { since?: string | undefined; from?: string | undefined; to?: string | undefined }, now: number): { from: string; to: string } {
  if (o.since !== undefined && o.from !== undefined) throw new UsageError('give --since or --from, not both');
  const time = (text: string, name: string): number => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new UsageError(`--${name} must be a time like 2026-12-07T10:00:00Z, got "${text}"`);
    return ms;
  };
  const to = o.to !== undefined ? time(o.to, 'to') : now;
  let from: number;
  if (o.from !== undefined) from = time(o.from, 'from');
  else {
    const since = parseDuration(o.since ?? '6h');
    if (since === undefined || since <= 0) throw new UsageError(`--since must be a duration like 30m, 6h, 7d, got "${o.since ?? ''}"`);
    from = to - since;
  }
  if (from >= to) throw new UsageError('the range is empty: --from must be before --to');
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

const NICE_STEPS = [60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** --step, or the smallest step that gives at most `maxPoints` points. */
export function parseStep(text: string | undefined, range: { from: string; to: string }, maxPoints = 60): number {
  if (text !== undefined) {
    const ms = parseDuration(text);
    if (ms === undefined || ms < 60_000 || ms % 60_000 !== 0) throw new UsageError(`--step must be whole minutes like 1m, 10m, 1h, got "${text}"`);
    return ms / 1000;
  }
  const span = (Date.parse(range.to) - Date.parse(range.from)) / 1000;
  return NICE_STEPS.find((s) => span / s <= maxPoints) ?? Math.ceil(span / maxPoints / 86400) * 86400;
}

/** Sums neighbouring points so that at most `width` remain (a chart column is then several steps). */
export function fitPoints(points: readonly number[], width: number): number[] {
  if (points.length <= width) return [...points];
  const per = Math.ceil(points.length / width);
  const out: number[] = [];
  for (let i = 0; i < points.length; i += per) out.push(points.slice(i, i + per).reduce((a, b) => a + b, 0));
  return out;
}

/** 950, 12.3k, 4.5M: chart labels of a fixed width. */
export function compact(n: number): string {
  if (n < 1_000) return String(Math.round(n));
  if (n < 1_000_000) return `${(n / 1_000).toFixed(n < 10_000 ? 1 : 0)}k`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 1 : 0)}M`;
  return `${(n / 1_000_000_000).toFixed(1)}G`;
}

// undefined: the terminal's own colour (asciichart's `default` would clash with ES module interop).
const COLORS: (string | undefined)[] = [undefined, asciichart.green, asciichart.yellow, asciichart.magenta, asciichart.cyan];
const LABEL_WIDTH = 7;
/** Columns of the plot itself: 80 minus the label and the axis. */
export const CHART_WIDTH = 80 - LABEL_WIDTH - 3;

export interface ChartOptions {
  /** Colour several series (a terminal); without colour only the sum of the series is drawn. */
  color: boolean;
  height?: number;
}

/**
 * The series as a line chart of calls per step, at most 80 columns wide, with the range under it.
 * Without colour, lines of several series could not be told apart: the chart is their sum.
 */
export function renderChart(series: readonly StatsSeries[], range: { from: string; to: string; stepSeconds: number }, opts: ChartOptions): string {
  if (series.length === 0) return '';
  const shown = opts.color ? series.slice(0, COLORS.length) : [series.reduce<StatsSeries>((acc, s) => ({ ...acc, points: acc.points.map((p, i) => p + (s.points[i] ?? 0)) }), { ...series[0]!, key: 'all', points: new Array<number>(series[0]!.points.length).fill(0) })];
  const perColumn = Math.ceil(shown[0]!.points.length / CHART_WIDTH);
  const lines = shown.map((s) => fitPoints(s.points, CHART_WIDTH));
  const max = Math.max(1, ...lines.flat());
  const plot = asciichart.plot(lines, {
    height: opts.height ?? 10,
    min: 0,
    max,
    ...(opts.color ? { colors: COLORS.slice(0, lines.length) } : {}),
    format: (x: number) => compact(x).padStart(LABEL_WIDTH),
  });
  const step = perColumn * range.stepSeconds;
  const axis = `${' '.repeat(LABEL_WIDTH + 2)}${range.from.slice(0, 16).replace('T', ' ')} … ${range.to.slice(0, 16).replace('T', ' ')} UTC, calls per ${step % 3600 === 0 ? `${step / 3600}h` : `${step / 60}m`}`;
  const legend = opts.color && shown.length > 1 ? '\n' + shown.map((s, i) => asciichart.colored('──', COLORS[i]) + ' ' + s.key).join('   ') : '';
  return `${plot}\n${axis}${legend}\n`;
}

function pct(errors: number, calls: number): string {
  return calls === 0 ? '-' : `${((100 * errors) / calls).toFixed(calls * 100 > errors * 1000 ? 2 : 1)}%`;
}

const ms = (v: number | null): string => (v === null ? '-' : `${v}ms`);

/** The table of totals under a chart, or of `stats top`. */
export function totalsTable(header: string, rows: readonly { key: string; calls: number; errors: number; transportErrors: number; p50Ms: number | null; p99Ms: number | null }[]): string {
  return table(
    [header, 'Calls', 'Errors', 'Err%', 'NoAnswer', 'p50', 'p99'],
    rows.map((r) => [r.key, r.calls.toLocaleString('en-US'), r.errors.toLocaleString('en-US'), pct(r.errors + r.transportErrors, r.calls), r.transportErrors.toLocaleString('en-US'), ms(r.p50Ms), ms(r.p99Ms)]),
  );
}
