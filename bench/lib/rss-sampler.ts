// Samples this process's resident set size on an interval, to report the peak of a phase.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
export interface RssReport {
  startMb: number;
  endMb: number;
  peakMb: number;
  samples: number;
}

export const toMb = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 10) / 10;

export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;
  private samples = 0;
  private startRss = 0;

  constructor(private readonly intervalMs = 20) {}

  start(): this {
    this.startRss = process.memoryUsage.rss();
    this.peak = this.startRss;
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): number {
    const rss = process.memoryUsage.rss();
    this.samples++;
    if (rss > this.peak) this.peak = rss;
    return rss;
  }

  stop(): RssReport {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const end = this.sample();
    return { startMb: toMb(this.startRss), endMb: toMb(end), peakMb: toMb(this.peak), samples: this.samples };
  }
}

let gcFn: (() => void) | undefined;

/**
 * Runs a full garbage collection (V8's gc(), exposed at run time: the bench cannot pass
 * --expose-gc through `npm run`). Used to measure retained heap, which, unlike RSS, does not move
 * with when V8 happens to collect.
 */
export function forceGc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Heap still in use after a full collection, MB. */
export function retainedHeapMb(): number {
  forceGc();
  return toMb(process.memoryUsage().heapUsed);
}

export interface MemoryReport extends RssReport {
  /** Heap after a full GC at the start and at the end of the measured window. */
  retainedHeapStartMb: number;
  retainedHeapEndMb: number;
}
