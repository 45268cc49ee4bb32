// Sends a meter's ended windows to the collector, oldest first, one batch at a time, on its own
// timer: never on a call's path. A batch the collector stored (or had stored: duplicate) or refused
// for good (invalid_request: sending it again would not help) is dropped from the spool; on a
// timeout or no collector the rest waits for the next tick, and MeterCounter bounds what waits.
import type { ApiCallsBatch, CommandReply } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { MeterCounter } from './meter-counter';

export type PushFn = (batch: ApiCallsBatch) => Promise<CommandReply>;

export class MeterPublisher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  sentBatches = 0;
  refusedBatches = 0;
  failedAttempts = 0;
  private lastFailureLogged = 0;

  constructor(
    private readonly counter: MeterCounter,
    private readonly push: PushFn,
    private readonly log: Logger,
    private readonly opts: { tickMs: number; clock?: () => number },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.opts.tickMs);
    this.timer.unref();
  }

  /** Closes ended windows and sends what waits (one run at a time). */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    const now = (this.opts.clock ?? Date.now)();
    this.counter.close(now);
    for (let b = this.counter.peek(); b; b = this.counter.peek()) {
      let reply: CommandReply;
      try {
        reply = await this.push(b);
      } catch (e) {
        reply = { ok: false, error: { code: 'unavailable', message: (e as Error).message } };
      }
      if (reply.ok) {
        this.sentBatches++;
        this.counter.sent();
        continue;
      }
      if (reply.error.code === 'invalid_request') {
        this.refusedBatches++;
        this.log.error({ error: reply.error, windowStart: b.windowStart }, 'the collector refused a batch; dropped');
        this.counter.sent();
        continue;
      }
      this.failedAttempts++;
      // Logged at most once a minute: a collector away for an hour is one line a minute, not thousands.
      if (now - this.lastFailureLogged > 60_000) {
        this.lastFailureLogged = now;
        this.log.warn({ error: reply.error, pending: this.counter.pendingBatches }, 'collector unreachable; counts kept and sent again later');
      }
      return;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
