// Plain formatting and judgement for the views (unit-tested): elapsed times, ages, and where a
// service's version stands against its chain's target and minimum.

export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function formatTime(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Compares dotted versions numerically (1.10.0 > 1.9.0); a leading "v" is ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split(/[.+-]/);
  const pb = b.replace(/^v/, '').split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

export type VersionStanding = 'current' | 'behind' | 'below_min' | 'ahead' | 'unknown';

/** Where a running version stands: at the target, between min and target, below min, or ahead. */
export function versionStanding(running: string | undefined, target: string | undefined, min: string | undefined): VersionStanding {
  if (!running || !target) return 'unknown';
  const t = compareVersions(running, target);
  if (t === 0) return 'current';
  if (t > 0) return 'ahead';
  if (min && compareVersions(running, min) < 0) return 'below_min';
  return 'behind';
}

/** Series points (calls per step from `from`) as chart rows: one row per step, one key per series. */
export function seriesRows(from: string, stepSeconds: number, series: readonly { key: string; points: readonly number[] }[]): Record<string, number | string>[] {
  const start = Date.parse(from);
  const steps = Math.max(0, ...series.map((s) => s.points.length));
  const rows: Record<string, number | string>[] = [];
  for (let i = 0; i < steps; i++) {
    const row: Record<string, number | string> = { time: new Date(start + i * stepSeconds * 1000).toISOString().slice(5, 16).replace('T', ' ') };
    for (const s of series) row[s.key] = s.points[i] ?? 0;
    rows.push(row);
  }
  return rows;
}

/** A band's rates as chart rows, one a minute: `time` and `rate` (calls per minute). */
export function bandRows(from: string, rates: readonly number[]): { time: string; rate: number }[] {
  const start = Date.parse(from);
  return rates.map((rate, i) => ({ time: new Date(start + i * 60_000).toISOString().slice(11, 16), rate }));
}
