// Progress for long work (rebuilds): a redrawn bar on a terminal, a line every 10% otherwise,
// JSON lines with --json. Pure formatting is separate from writing so it can be tested.
export interface Progress {
  processed: number;
  total: number;
  eventsPerSec?: number;
}

export function formatProgress(p: Progress, width = 30): string {
  const ratio = p.total > 0 ? Math.min(1, p.processed / p.total) : 1;
  const filled = Math.round(ratio * width);
  const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
  const pct = (ratio * 100).toFixed(0).padStart(3);
  const rate = p.eventsPerSec !== undefined ? `  ${Math.round(p.eventsPerSec).toLocaleString('en-US')} ev/s` : '';
  const remaining = p.eventsPerSec && p.eventsPerSec > 0 ? Math.max(0, (p.total - p.processed) / p.eventsPerSec) : undefined;
  const eta = remaining !== undefined && ratio < 1 ? `  ETA ${remaining.toFixed(1)}s` : '';
  return `[${bar}] ${pct}%  ${p.processed.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}${rate}${eta}`;
}

export class ProgressReporter {
  private lastDecile = -1;
  constructor(
    private readonly write: (text: string) => void,
    private readonly mode: 'tty' | 'lines' | 'json',
  ) {}

  update(p: Progress): void {
    if (this.mode === 'json') {
      this.write(JSON.stringify({ progress: p }) + '\n');
    } else if (this.mode === 'tty') {
      this.write('\r' + formatProgress(p));
    } else {
      const decile = p.total > 0 ? Math.floor((p.processed / p.total) * 10) : 10;
      if (decile !== this.lastDecile) {
        this.lastDecile = decile;
        this.write(formatProgress(p) + '\n');
      }
    }
  }

  done(p: Progress): void {
    this.update(p);
    if (this.mode === 'tty') this.write('\n');
  }
}
