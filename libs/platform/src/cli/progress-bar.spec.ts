import { describe, expect, it } from 'vitest';
import { formatProgress, ProgressReporter } from './progress-bar';

describe('progress', () => {
  it('formats a bar with percentage, counts, rate and ETA', () => {
    const s = formatProgress({ processed: 250_000, total: 1_000_000, eventsPerSec: 125_000 }, 20);
    expect(s).toBe('[#####---------------]  25%  250,000/1,000,000  125,000 ev/s  ETA 6.0s');
  });

  it('writes one line per 10% when not on a terminal', () => {
    const lines: string[] = [];
    const r = new ProgressReporter((t) => lines.push(t), 'lines');
    for (let i = 0; i <= 100; i += 5) r.update({ processed: i, total: 100 });
    expect(lines).toHaveLength(11);
  });

  it('writes JSON progress objects in json mode', () => {
    const lines: string[] = [];
    new ProgressReporter((t) => lines.push(t), 'json').update({ processed: 3, total: 9 });
    expect(JSON.parse(lines[0]!)).toEqual({ progress: { processed: 3, total: 9 } });
  });
});
