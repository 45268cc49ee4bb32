// The runner's events go to the log through a spool on local disk, so that a Postgres outage (or
// a crash) loses nothing and doubles nothing:
//   1. record(): the envelope (with its final event id) is written to spool/<event id>.json and
//      fsync'ed before anything else happens. uuid v7 ids sort by time, so the file names are the
//      order of recording.
//   2. the flusher appends pending files in that order to their streams, then deletes them.
//   3. a crash between append and delete re-appends the same ids on the next flush: the log is
//      idempotent by event id, so nothing is doubled.
// With the log unreachable the files stay and the flusher retries with capped backoff.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fleetEvents, type EventEnvelope } from '@fleetvisor/contracts';
import { backoffDelay } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import { writeFileAtomic, fsyncDir } from '../home/atomic-file';

const FILE = /^[0-9a-f-]{36}\.json$/;

export interface SpooledEvent {
  file: string;
  event: EventEnvelope;
}

export class EventSpool {
  private readonly rejectedDir: string;

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.rejectedDir = path.join(dir, 'rejected');
  }

  /** Validates the event against its contract and writes it durably. Throws on an invalid event (a bug). */
  write(event: EventEnvelope): void {
    const parsed = fleetEvents.parse(event);
    if (!parsed.ok) throw new Error(`refusing to spool an invalid ${event.type}: ${parsed.reason}`);
    writeFileAtomic(path.join(this.dir, `${event.id}.json`), JSON.stringify(event));
  }

  /** Pending events, oldest first (at most `limit`). Unreadable files are set aside. */
  pending(limit = Number.MAX_SAFE_INTEGER): SpooledEvent[] {
    if (!existsSync(this.dir)) return [];
    const names = readdirSync(this.dir).filter((n) => FILE.test(n)).sort();
    const out: SpooledEvent[] = [];
    for (const name of names) {
      if (out.length >= limit) break;
      const file = path.join(this.dir, name);
      try {
        out.push({ file, event: JSON.parse(readFileSync(file, 'utf8')) as EventEnvelope });
      } catch {
        this.reject(file);
      }
    }
    return out;
  }

  count(): number {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((n) => FILE.test(n)).length : 0;
  }

  remove(files: readonly string[]): void {
    for (const f of files) rmSync(f, { force: true });
    fsyncDir(this.dir);
  }

  /** Moves a file the log will never take (e.g. its id is stored in another stream) out of the way. */
  reject(file: string): void {
    mkdirSync(this.rejectedDir, { recursive: true });
    renameSync(file, path.join(this.rejectedDir, path.basename(file)));
  }
}

/** Where flushed events go: the event store's appendToStream (idempotent by event id). */
export interface EventSink {
  append(stream: string, events: readonly EventEnvelope[]): Promise<void>;
}

export interface SpoolFlusherOptions {
  spool: EventSpool;
  sink: () => EventSink | undefined;
  logger: Logger;
  /** Errors after which a batch is set aside instead of retried (the log refuses it for good). */
  isPermanent?: (e: unknown) => boolean;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** Appends spooled events in order; never throws; retries with capped backoff while the log is away. */
export class SpoolFlusher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: SpoolFlusherOptions) {
    this.log = opts.logger.child({ component: 'spool' });
  }

  /** Ask for a flush now (after a write, or when the log came back). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running = this.flush().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once the spool is empty (or the timeout passes): for shutdown and tests. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.opts.spool.count() === 0 && !this.running) return true;
      // While the log is failing, the backoff timer decides when to try again (no hammering).
      if (this.failures === 0) this.kick();
      await (this.running ?? new Promise((r) => setTimeout(r, 50)));
      if (this.opts.spool.count() > 0) await new Promise((r) => setTimeout(r, 50));
    }
    return this.opts.spool.count() === 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, ms);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    const sink = this.opts.sink();
    if (!sink) {
      if (this.opts.spool.count() > 0) this.schedule(1_000);
      return;
    }
    for (;;) {
      if (this.stopped) return;
      const batch = this.opts.spool.pending(200);
      if (batch.length === 0) {
        this.failures = 0;
        return;
      }
      // Consecutive events of one stream go in one append (one round trip); order is kept.
      let i = 0;
      while (i < batch.length) {
        const stream = batch[i]!.event.stream;
        let j = i;
        while (j < batch.length && batch[j]!.event.stream === stream && j - i < 100) j++;
        const group = batch.slice(i, j);
        try {
          await sink.append(stream, group.map((g) => g.event));
          this.opts.spool.remove(group.map((g) => g.file));
          this.failures = 0;
        } catch (e) {
          if (this.opts.isPermanent?.(e)) {
            this.log.error({ err: (e as Error).message, stream, events: group.length }, 'the log refused spooled events for good; set aside in spool/rejected');
            for (const g of group) this.opts.spool.reject(g.file);
          } else {
            this.failures++;
            const delay = backoffDelay(this.failures, { initialMs: this.opts.retryInitialMs ?? 250, maxMs: this.opts.retryMaxMs ?? 5_000 });
            if (this.failures === 1 || this.failures % 20 === 0) {
              this.log.warn({ err: (e as Error).message, pending: this.opts.spool.count(), retryInMs: delay }, 'event log unreachable; events stay spooled');
            }
            this.schedule(delay);
            return;
          }
        }
        i = j;
      }
    }
  }
}
