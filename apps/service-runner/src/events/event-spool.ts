// The runner's events go to the log through a spool on local disk and the central event intake
// (the host holds no database credentials, ADR 0006), so that an outage of NATS, of the intake or
// of the log behind it (or a crash) loses nothing and doubles nothing:
//   1. record(): the envelope (with its final event id) is written to spool/<event id>.json and
//      fsync'ed before anything else happens. uuid v7 ids sort by time, so the file names are the
//      order of recording.
//   2. the flusher sends pending files in that order, in batches bounded in count and bytes (what
//      the intake takes in one request), and deletes them once the intake confirms.
//   3. a crash, or a reply lost, between append and delete sends the same ids again: the intake is
//      idempotent by event id, so nothing is doubled.
// While the intake does not answer the files stay and the flusher retries with capped backoff.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { EVENT_INTAKE_MAX_BYTES, EVENT_INTAKE_MAX_EVENTS, fleetEvents, type EventEnvelope } from '@fleetvisor/contracts';
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

/** Where flushed events go: the central event intake (idempotent by event id). */
export interface EventSink {
  /** Resolves once every event is in the log (new or stored already); throws otherwise. */
  append(events: readonly EventEnvelope[]): Promise<void>;
}

export interface SpoolFlusherOptions {
  spool: EventSpool;
  sink: () => EventSink | undefined;
  logger: Logger;
  /** Errors after which events are set aside instead of retried (the intake refuses them for good). */
  isPermanent?: (e: unknown) => boolean;
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Bounds of one batch (default: what the intake takes in one request). */
  maxEvents?: number;
  maxBytes?: number;
}

/** The longest run of `batch` (at least one) within the bounds: what one request carries. */
export function firstBatch<T extends { event: EventEnvelope }>(batch: readonly T[], maxEvents: number, maxBytes: number): T[] {
  const out: T[] = [];
  let bytes = 2; // the array's brackets
  for (const item of batch) {
    if (out.length >= maxEvents) break;
    const size = Buffer.byteLength(JSON.stringify(item.event)) + 1;
    if (out.length > 0 && bytes + size > maxBytes) break;
    out.push(item);
    bytes += size;
  }
  return out;
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
    const maxEvents = this.opts.maxEvents ?? EVENT_INTAKE_MAX_EVENTS;
    const maxBytes = this.opts.maxBytes ?? EVENT_INTAKE_MAX_BYTES;
    for (;;) {
      if (this.stopped) return;
      const pending = this.opts.spool.pending(maxEvents);
      if (pending.length === 0) {
        this.failures = 0;
        return;
      }
      const group = firstBatch(pending, maxEvents, maxBytes);
      const outcome = await this.send(sink, group);
      if (outcome === 'retry') return;
    }
  }

  /**
   * Sends one batch. A batch refused for good is sent again event by event, so only the events the
   * intake refuses are set aside (spool/rejected) and the others still reach the log.
   */
  private async send(sink: EventSink, group: readonly SpooledEvent[]): Promise<'sent' | 'retry'> {
    try {
      await sink.append(group.map((g) => g.event));
      this.opts.spool.remove(group.map((g) => g.file));
      this.failures = 0;
      return 'sent';
    } catch (e) {
      if (!this.opts.isPermanent?.(e)) {
        this.failures++;
        const delay = backoffDelay(this.failures, { initialMs: this.opts.retryInitialMs ?? 250, maxMs: this.opts.retryMaxMs ?? 5_000 });
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.log.warn({ err: (e as Error).message, pending: this.opts.spool.count(), retryInMs: delay }, 'event intake unreachable; events stay spooled');
        }
        this.schedule(delay);
        return 'retry';
      }
      if (group.length > 1) {
        for (const one of group) if ((await this.send(sink, [one])) === 'retry') return 'retry';
        return 'sent';
      }
      const { event, file } = group[0]!;
      this.log.error({ err: (e as Error).message, eventId: event.id, type: event.type, stream: event.stream }, 'the event intake refused a spooled event for good; set aside in spool/rejected');
      this.opts.spool.reject(file);
      return 'sent';
    }
  }
}
