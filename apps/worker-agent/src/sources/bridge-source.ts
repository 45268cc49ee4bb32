// Thread state from a real damocles-worker through its admin JSON-RPC (VenusWorker.*). Polls
// WorkerList, derives transitions from consecutive snapshots, passes pause/resume through, and
// drains by pausing every running thread: damocles checks for a pause between two states (the
// planner loop calls `interrupted()` before each step), so each thread stops at its next boundary.
import type { PauseReason, ThreadInfo } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { NewTransition } from '../report/transition-outbox';
import { diffSnapshots, parseWorkerList } from './damocles-threads';
import { ThreadSourceError, type DrainProgress, type ThreadSource } from './thread-source';
import { JsonRpcCallError, VenusWorkerClient, VenusWorkerUnreachableError } from './venus-worker-client';

/** What a report shows of the threads, elapsed time aside (it changes on every list). */
export function threadsSignature(threads: readonly ThreadInfo[]): string {
  let s = '';
  for (const t of threads) s += `${t.index}\u0001${t.plan}\u0001${t.threadState}\u0001${t.pauseReason ?? ''}\u0001${t.state}\u0001${t.sectorId ?? ''}\u0001${t.location ?? ''}\u0001${t.stage ?? ''}\u0001${t.lastError ?? ''}\u0002`;
  return s;
}

export interface BridgeSourceOptions {
  adminUrl: string;
  pollMs: number;
  logger: Logger;
  timeoutMs?: number;
  now?: () => number;
}

export class BridgeSource implements ThreadSource {
  readonly kind = 'bridge' as const;
  private readonly client: VenusWorkerClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private snapshot: ThreadInfo[] | undefined;
  private workerVersion = 'unknown';
  private onTransition: ((t: NewTransition) => void) | undefined;
  private onChange: (() => void) | undefined;
  /** What reports show of the last list (threadsSignature): a poll that finds it changed asks for a report. */
  private seen: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<unknown> | undefined;
  private reportedSkips = new Set<string>();
  /**
   * Why threads this agent paused are paused (damocles' WorkerList does not say), and how many lists
   * had started when it paused them: only a list started after that can say the thread runs (a list
   * already on its way may show it as it was before the pause, and must not forget the reason).
   */
  private readonly pausedBy = new Map<number, { reason: PauseReason; afterList: number }>();
  private listsStarted = 0;
  private unreachable = false;

  constructor(private readonly opts: BridgeSourceOptions) {
    this.client = new VenusWorkerClient(opts.adminUrl, opts.timeoutMs ?? 5_000);
    this.log = opts.logger.child({ component: 'bridge', adminUrl: opts.adminUrl });
    this.now = opts.now ?? Date.now;
  }

  async start(onTransition: (t: NewTransition) => void, onChange?: () => void): Promise<void> {
    this.onTransition = onTransition;
    this.onChange = onChange;
    await this.learnVersion();
    await this.refresh().catch(() => undefined);
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs);
  }

  /**
   * One poll: a change since the last list (by anyone: this poll, a report's or a command's list)
   * asks for one report. Lists made for a report or a command do not ask (the report is on its
   * way, a command reports itself), so a poll asks at most once.
   */
  private async poll(): Promise<void> {
    const listed = await this.list().catch(() => undefined);
    if (listed?.changed) this.onChange?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing?.catch(() => undefined);
  }

  version(): string {
    return this.workerVersion;
  }

  /** WorkerVersion, made fit for a report; 'unknown' until the worker answers it. */
  private async learnVersion(): Promise<void> {
    const v = await this.client.workerVersion().catch(() => 'unknown');
    this.workerVersion = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/.test(v) ? v : v.replace(/[^0-9A-Za-z.+_-]/g, '_').replace(/^[^0-9A-Za-z]+/, '').slice(0, 64) || 'unknown';
  }

  threads(): Promise<ThreadInfo[]> {
    return this.refresh();
  }

  async pause(index: number): Promise<boolean> {
    const t = await this.thread(index);
    if (t.threadState === 'paused') return false;
    const ok = await this.pauseFor(index, 'manual');
    await this.refresh().catch(() => undefined);
    return ok;
  }

  /** WorkerPause, with the reason known before the pause shows in a list and kept until a list started after it says the thread runs. */
  private async pauseFor(index: number, reason: PauseReason): Promise<boolean> {
    const by = { reason, afterList: Number.POSITIVE_INFINITY };
    this.pausedBy.set(index, by);
    try {
      const ok = await this.rpc(() => this.client.workerPause(index));
      by.afterList = this.listsStarted;
      return ok;
    } catch (e) {
      if (this.pausedBy.get(index) === by) this.pausedBy.delete(index);
      throw e;
    }
  }

  async resume(index: number, state: string | undefined): Promise<boolean> {
    const t = await this.thread(index);
    if (t.threadState !== 'paused') return false;
    const ok = await this.rpc(() => this.client.workerResume(index, state));
    await this.refresh().catch(() => undefined);
    return ok;
  }

  async drain(): Promise<DrainProgress> {
    const threads = await this.refresh();
    for (const t of threads) {
      if (t.threadState === 'paused') continue;
      await this.pauseFor(t.index, 'drain');
    }
    const after = await this.refresh();
    const paused = after.filter((t) => t.threadState === 'paused').length;
    return { threads: after.length, paused, finished: paused === after.length };
  }

  /** Lists the worker now, records the transitions since the last list, returns the threads. */
  async refresh(): Promise<ThreadInfo[]> {
    return (await this.list()).threads;
  }

  /** `changed`: what reports show differs from the list before this one. */
  private list(): Promise<{ threads: ThreadInfo[]; changed: boolean }> {
    // One list at a time, so consecutive snapshots are diffed in order.
    const run = (this.refreshing ?? Promise.resolve()).catch(() => undefined).then(() => this.listOnce());
    this.refreshing = run;
    return run;
  }

  private async listOnce(): Promise<{ threads: ThreadInfo[]; changed: boolean }> {
    const listNo = ++this.listsStarted;
    const raw = await this.rpc(() => this.client.workerList());
    // A worker that did not answer at start is asked its version once it answers.
    if (this.workerVersion === 'unknown') await this.learnVersion();
    const parsed = parseWorkerList(raw);
    for (const t of parsed.threads) {
      if (t.threadState !== 'paused') {
        const by = this.pausedBy.get(t.index);
        if (by !== undefined && listNo > by.afterList) this.pausedBy.delete(t.index);
        continue;
      }
      // damocles pauses a thread itself on a permanent or critical error.
      const reason = this.pausedBy.get(t.index)?.reason ?? (t.lastError !== undefined && /^(permanent|critical)\b/i.test(t.lastError) ? 'error' : undefined);
      if (reason !== undefined) t.pauseReason = reason;
    }
    for (const s of parsed.skipped) {
      if (this.reportedSkips.has(s)) continue;
      this.reportedSkips.add(s);
      this.log.warn({ reason: s }, 'damocles thread left out of reports');
    }
    if (this.snapshot && this.onTransition) for (const t of diffSnapshots(this.snapshot, parsed.threads, new Date(this.now()))) this.onTransition(t);
    this.snapshot = parsed.threads;
    const signature = threadsSignature(parsed.threads);
    const changed = this.seen !== undefined && signature !== this.seen;
    this.seen = signature;
    return { threads: parsed.threads, changed };
  }

  private async thread(index: number): Promise<ThreadInfo> {
    const threads = await this.refresh();
    const t = threads.find((x) => x.index === index);
    if (!t) throw new ThreadSourceError('not_found', `worker #${index} not found`);
    return t;
  }

  private async rpc<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const v = await fn();
      if (this.unreachable) this.log.info('damocles-worker admin API answers again');
      this.unreachable = false;
      return v;
    } catch (e) {
      if (e instanceof VenusWorkerUnreachableError) {
        if (!this.unreachable) this.log.warn({ err: e.message }, 'damocles-worker admin API unreachable');
        this.unreachable = true;
        throw new ThreadSourceError('unavailable', e.message);
      }
      if (e instanceof JsonRpcCallError) throw new ThreadSourceError(/not found/i.test(e.message) ? 'not_found' : 'invalid_request', e.message);
      throw e;
    }
  }
}
