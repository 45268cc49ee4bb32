// The collector's scraper: every scrape interval (aligned to it), each configured target's
// /metrics is fetched and parsed; the calls counted since the previous scrape become one batch of
// source scrape-<target> for the window that just ended, checked and appended like a pushed batch.
// A target that fails is logged once per failure streak; its next good scrape counts the calls of
// the missed windows too (in its own window: counters are totals, not per window). The targets can
// change while it runs (scrape discovery): a new one starts with a baseline scrape, a dropped one's
// baseline is forgotten.
import type { Logger } from '@fleetvisor/platform';
import type { ScrapeTarget } from '../config';
import type { PushIntake } from '../ingest/push-intake';
import type { CollectorPart } from '../stats-collector';
import { parseExposition } from './prometheus-text';
import { ScrapeCounts } from './scrape-counts';

export class PrometheusScraper implements CollectorPart {
  private targets: readonly ScrapeTarget[];
  private timer: NodeJS.Timeout | undefined;
  private readonly counts = new Map<string, ScrapeCounts>();
  private readonly failing = new Set<string>();
  private running: Promise<void> | undefined;
  private stopped = false;
  scrapes = 0;
  failures = 0;

  constructor(
    targets: readonly ScrapeTarget[],
    private readonly intake: PushIntake,
    private readonly log: Logger,
    private readonly opts: { intervalSeconds: number; clock?: () => number },
  ) {
    this.targets = targets;
  }

  /** The targets scraped now. */
  get current(): readonly ScrapeTarget[] {
    return this.targets;
  }

  /** Replaces the targets from the next round on; a target whose name is gone loses its baseline. */
  setTargets(targets: readonly ScrapeTarget[]): void {
    const urls = new Map(targets.map((t) => [t.name, t.url]));
    const before = new Map(this.targets.map((t) => [t.name, t.url]));
    const names = new Set(targets.map((t) => t.name));
    // A target gone, or moved to another address (another process: its counters are not the old ones'), starts over.
    for (const name of [...this.counts.keys()]) if (urls.get(name) !== before.get(name) || !names.has(name)) this.counts.delete(name);
    for (const name of [...this.failing]) if (!names.has(name)) this.failing.delete(name);
    this.targets = targets;
  }

  async start(): Promise<void> {
    // The first run sets each target's baseline.
    await this.scrapeAll();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const ms = this.opts.intervalSeconds * 1000;
    const now = (this.opts.clock ?? Date.now)();
    this.timer = setTimeout(() => {
      this.running = this.scrapeAll().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, ms - (now % ms) + 50);
    this.timer.unref();
  }

  /** One round over every target (the batch window is the interval that just ended). */
  async scrapeAll(): Promise<void> {
    const ms = this.opts.intervalSeconds * 1000;
    const now = (this.opts.clock ?? Date.now)();
    const windowStart = now - (now % ms) - ms;
    await Promise.all(this.targets.map((t) => this.scrape(t, windowStart)));
  }

  private async scrape(t: ScrapeTarget, windowStart: number): Promise<void> {
    const source = `scrape-${t.name}`;
    try {
      const res = await fetch(t.url, { headers: { accept: 'text/plain; version=0.0.4' }, signal: AbortSignal.timeout(Math.max(1_000, (this.opts.intervalSeconds * 1000) / 2)) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const exposition = parseExposition(await res.text());
      // Dropped or moved while this scrape was in flight: its answer belongs to no target now.
      if (!this.targets.some((x) => x.name === t.name && x.url === t.url)) return;
      let counts = this.counts.get(t.name);
      if (!counts) {
        counts = new ScrapeCounts();
        this.counts.set(t.name, counts);
      }
      const records = counts.delta(exposition, t.service ?? t.name);
      this.scrapes++;
      if (this.failing.delete(t.name)) this.log.info({ target: t.name }, 'scrape target answers again');
      if (records.length === 0) return;
      const batch = { source, windowStart: new Date(windowStart).toISOString(), windowSeconds: this.opts.intervalSeconds, part: 0, records: records.slice(0, 1000) };
      const c = this.intake.check(batch, source);
      if (!c.ok) {
        this.intake.refuse(c.reason, c.message, source, batch.records.length);
        return;
      }
      await this.intake.append(c.batch);
    } catch (e) {
      this.failures++;
      if (!this.failing.has(t.name)) {
        this.failing.add(t.name);
        this.log.warn({ target: t.name, url: t.url, err: (e as Error).message }, 'scrape failed (logged once until it answers again)');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
