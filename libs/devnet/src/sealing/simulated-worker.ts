// A simulated damocles sealing worker: N sealing threads that walk the sealer, snapup and unseal
// flows at a configurable speed, with temporary errors (retried in place), permanent errors (the
// thread pauses with last_error "permanent: ...") and optional aborts, and the same controls as
// damocles-worker's admin API: pause, resume (optionally to another state of the plan), plus drain.
//
// Tick-based and lazy: nothing runs per thread; `advance(now)` completes every step due by `now`
// in time order, so one process can simulate many thousands of threads, and a ManualClock makes
// every unit test exact. `start()` only calls `advance` on an interval.
import { isValidStateForPlan, validStatesForPlan, type FailureLevel, type ThreadInfo } from '@fleetvisor/contracts';
import { systemClock, type SealingClock } from './clock';
import { PLAN_FLOWS, SIMULATED_PLANS, SYNTHETIC_PC2, isSimulatedPlan, type FlowStep, type SimulatedPlan } from './flows';
import { seededRng, type Rng } from './rng';

export interface SimulatedWorkerOptions {
  /** Number of sealing threads (1..65536). */
  threads: number;
  /** Mean time one step (one state's work) takes, ms; default 1000. */
  stepMs?: number;
  /** Spread of step times as a fraction of stepMs (0..1); default 0.2 = ±20 %. */
  jitter?: number;
  /** Chance per step of a temporary error (retried, the thread stays in its state); default 0.02. */
  temporaryErrorRate?: number;
  /** Chance per step of a permanent error (the thread pauses with last_error); default 0.002. */
  permanentErrorRate?: number;
  /** Chance per step that the sector is aborted (-> Aborted, the thread takes a new task); default 0. */
  abortRate?: number;
  /** Chance that a sealer's PC2 needs a synthetic proof (-> SyntheticPoRepNeeded); default 0. */
  syntheticPoRepRate?: number;
  /** How long an idle thread waits before it takes a task, ms; default stepMs. */
  idleMs?: number;
  /** Seed of the random generator; the same seed gives the same run. Default 1. */
  seed?: number;
  clock?: SealingClock;
  /** Plans handed to threads round-robin by index; default 6 × sealer, snapup, unseal. */
  plans?: readonly SimulatedPlan[];
  /** Miner actor id in sector ids (s-t0<miner>-<number>); default 1000. */
  miner?: number;
  /** Where sector numbers come from (share one across workers of a miner); default 1, 2, 3 … */
  nextSectorNumber?: () => number;
  /** Store location of thread i is `<locationPrefix><i>`; default '/data/store'. */
  locationPrefix?: string;
  /** Worker software version (WorkerVersion); default '0.11.0-sim'. */
  version?: string;
}

export const DEFAULT_SIMULATED_PLANS: readonly SimulatedPlan[] = ['sealer', 'sealer', 'sealer', 'sealer', 'sealer', 'sealer', 'snapup', 'unseal'];

export type ThreadRunState = 'idle' | 'paused' | 'running' | 'waiting';
export type SimPauseReason = 'manual' | 'error' | 'drain';

/** One transition as damocles reports it (StateChange + Failure); prev === next for a failure in place. */
export interface SimTransition {
  index: number;
  plan: SimulatedPlan;
  location: string;
  sectorId?: string;
  prev: string;
  next: string;
  event: string;
  failure?: { level: FailureLevel; desc: string };
  /** When it happened (ms since the epoch, on the worker's clock). */
  at: number;
}

/** damocles' SealingThreadState on the wire: {"state":"Running","elapsed":100,"proc":null}; elapsed in seconds. */
export type DamoclesThreadState =
  | { state: 'Idle' }
  | { state: 'Paused'; elapsed: number }
  | { state: 'Running'; elapsed: number; proc: string | null }
  | { state: 'Waiting'; elapsed: number };

/** damocles' WorkerInfo (VenusWorker.WorkerList item), field for field. */
export interface DamoclesWorkerInfo {
  location: string;
  plan: string;
  job_id: string | null;
  index: number;
  thread_state: DamoclesThreadState;
  job_state: string;
  job_stage: string | null;
  last_error: string | null;
}

export interface DrainStatus {
  threads: number;
  paused: number;
  finished: boolean;
}

/** A control request the worker refuses: an unknown index, or a state outside the thread's plan. */
export class SealingWorkerError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid_state',
    message: string,
  ) {
    super(message);
    this.name = 'SealingWorkerError';
  }
}

interface SimThread {
  readonly index: number;
  readonly location: string;
  readonly plan: SimulatedPlan;
  sectorId: string | undefined;
  state: string;
  /** When the current run state began (state entered, or paused). */
  since: number;
  /** When the current step completes; Infinity while paused. */
  dueAt: number;
  paused: boolean;
  pauseReason: SimPauseReason | undefined;
  /** Draining: pause at the next state boundary, take no new task. */
  drainPending: boolean;
  lastError: string | undefined;
}

const ERROR_CAUSES = [
  'processor exited with status 1',
  'store location not reachable',
  'checksum mismatch in piece file',
  'deadline exceeded calling the sector manager',
  'out of memory in the external processor',
  'message not landed on chain',
];

function rate(name: string, v: number | undefined, def: number): number {
  const r = v ?? def;
  if (!(r >= 0 && r <= 1)) throw new Error(`SimulatedWorker: ${name} must be between 0 and 1, got ${String(v)}`);
  return r;
}

export type TransitionListener = (t: SimTransition) => void;

export class SimulatedWorker {
  readonly version: string;
  private readonly threads: SimThread[];
  private readonly clock: SealingClock;
  private readonly rng: Rng;
  private readonly stepMs: number;
  private readonly jitter: number;
  private readonly idleMs: number;
  private readonly temporaryRate: number;
  private readonly permanentRate: number;
  private readonly abortRate: number;
  private readonly syntheticRate: number;
  private readonly miner: number;
  private readonly nextSectorNumber: () => number;
  private readonly listeners = new Set<TransitionListener>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: SimulatedWorkerOptions) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 65_536) {
      throw new Error(`SimulatedWorker: threads must be an integer from 1 to 65536, got ${String(opts.threads)}`);
    }
    this.stepMs = opts.stepMs ?? 1_000;
    if (!(this.stepMs >= 1)) throw new Error(`SimulatedWorker: stepMs must be >= 1, got ${String(opts.stepMs)}`);
    this.jitter = rate('jitter', opts.jitter, 0.2);
    this.idleMs = opts.idleMs ?? this.stepMs;
    if (!(this.idleMs >= 1)) throw new Error(`SimulatedWorker: idleMs must be >= 1, got ${String(opts.idleMs)}`);
    this.temporaryRate = rate('temporaryErrorRate', opts.temporaryErrorRate, 0.02);
    this.permanentRate = rate('permanentErrorRate', opts.permanentErrorRate, 0.002);
    this.abortRate = rate('abortRate', opts.abortRate, 0);
    this.syntheticRate = rate('syntheticPoRepRate', opts.syntheticPoRepRate, 0);
    if (this.temporaryRate + this.permanentRate + this.abortRate > 1) throw new Error('SimulatedWorker: the error rates add up to more than 1');
    this.clock = opts.clock ?? systemClock;
    this.rng = seededRng(opts.seed ?? 1);
    this.miner = opts.miner ?? 1000;
    let n = 0;
    this.nextSectorNumber = opts.nextSectorNumber ?? (() => ++n);
    this.version = opts.version ?? '0.11.0-sim';
    const plans = opts.plans ?? DEFAULT_SIMULATED_PLANS;
    if (plans.length === 0) throw new Error('SimulatedWorker: plans must not be empty');
    for (const p of plans) if (!isSimulatedPlan(p)) throw new Error(`SimulatedWorker: plan "${String(p)}" is not simulated (use ${SIMULATED_PLANS.join(', ')})`);
    const prefix = opts.locationPrefix ?? '/data/store';
    const now = this.clock.now();
    this.threads = Array.from({ length: opts.threads }, (_, index) => ({
      index,
      location: `${prefix}${index}`,
      plan: plans[index % plans.length]!,
      sectorId: undefined,
      state: 'Empty',
      since: now,
      // Threads start spread over the first idle period, as real ones do not start in lockstep.
      dueAt: now + 1 + this.rng.int(this.idleMs),
      paused: false,
      pauseReason: undefined,
      drainPending: false,
      lastError: undefined,
    }));
  }

  get threadCount(): number {
    return this.threads.length;
  }

  /** Some thread still has to reach its state boundary before it pauses for a drain. */
  get isDraining(): boolean {
    return this.threads.some((t) => t.drainPending);
  }

  onTransition(listener: TransitionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Completes every step due by `now`, in time order across threads. Returns the steps taken. */
  advance(now = this.clock.now()): number {
    let steps = 0;
    for (;;) {
      let due: SimThread | undefined;
      for (const t of this.threads) if (t.dueAt <= now && (due === undefined || t.dueAt < due.dueAt)) due = t;
      if (!due) return steps;
      this.completeStep(due, due.dueAt);
      steps++;
    }
  }

  /** Advances on its own every `tickMs` (wall clock); `stop()` ends it. */
  start(tickMs = 100): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.advance(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** VenusWorker.WorkerPause: true when the thread was running and is now paused. */
  pause(index: number): boolean {
    const t = this.thread(index);
    this.advance();
    if (t.paused) return false;
    this.pauseThread(t, 'manual', this.clock.now());
    return true;
  }

  /**
   * VenusWorker.WorkerResume: true when a paused thread resumed. `setTo` must be a state of the
   * thread's plan (damocles does not check; we refuse, listing the valid ones). A thread that is
   * not paused is left alone (false).
   */
  resume(index: number, setTo?: string | null): boolean {
    const t = this.thread(index);
    if (setTo !== undefined && setTo !== null && !isValidStateForPlan(t.plan, setTo)) {
      throw new SealingWorkerError(
        'invalid_state',
        `state "${setTo}" is not a state of plan ${t.plan} (thread #${index}); valid: ${validStatesForPlan(t.plan).join(', ')}`,
      );
    }
    this.advance();
    if (!t.paused) return false;
    const now = this.clock.now();
    t.paused = false;
    t.pauseReason = undefined;
    t.drainPending = false;
    t.lastError = undefined;
    t.since = now;
    if (setTo !== undefined && setTo !== null && setTo !== t.state) {
      const prev = t.state;
      if (setTo === 'Empty') {
        this.emit(t, prev, 'Empty', 'SetState', now);
        this.becomeIdle(t, now);
        return true;
      }
      if (t.sectorId === undefined) t.sectorId = this.newSectorId();
      t.state = setTo;
      this.emit(t, prev, setTo, 'SetState', now);
    }
    t.dueAt = now + (t.sectorId === undefined ? this.idleMs : this.duration());
    return true;
  }

  /** Each thread pauses at its next state boundary and takes no new task; returns the progress. */
  drain(): DrainStatus {
    this.advance();
    const now = this.clock.now();
    for (const t of this.threads) {
      if (t.paused) continue;
      if (t.sectorId === undefined) this.pauseThread(t, 'drain', now);
      else t.drainPending = true;
    }
    return this.drainStatus();
  }

  drainStatus(): DrainStatus {
    const paused = this.threads.filter((t) => t.paused).length;
    return { threads: this.threads.length, paused, finished: paused === this.threads.length };
  }

  /** Why a thread is paused (undefined when it is not). */
  pauseReason(index: number): SimPauseReason | undefined {
    return this.thread(index).pauseReason;
  }

  /** VenusWorker.WorkerList, in damocles' JSON shape. */
  list(): DamoclesWorkerInfo[] {
    this.advance();
    const now = this.clock.now();
    return this.threads.map((t) => {
      const run = this.runState(t);
      const elapsed = Math.max(0, Math.floor((now - t.since) / 1000));
      const threadState: DamoclesThreadState =
        run === 'idle'
          ? { state: 'Idle' }
          : run === 'paused'
            ? { state: 'Paused', elapsed }
            : run === 'waiting'
              ? { state: 'Waiting', elapsed }
              : { state: 'Running', elapsed, proc: null };
      return {
        location: t.location,
        plan: t.plan,
        job_id: t.sectorId ?? null,
        index: t.index,
        thread_state: threadState,
        job_state: t.state,
        job_stage: this.stageOf(t) ?? null,
        last_error: t.lastError ?? null,
      };
    });
  }

  /** Every thread as `worker info` shows it (contracts' ThreadInfo), elapsed in ms. */
  threadInfos(): ThreadInfo[] {
    this.advance();
    const now = this.clock.now();
    return this.threads.map((t) => {
      const stage = this.stageOf(t);
      const info: ThreadInfo = {
        index: t.index,
        location: t.location,
        plan: t.plan,
        threadState: this.runState(t),
        elapsedMs: Math.max(0, now - t.since),
        state: t.state,
      };
      if (t.sectorId !== undefined) info.sectorId = t.sectorId;
      if (info.threadState === 'paused' && t.pauseReason !== undefined) info.pauseReason = t.pauseReason;
      if (stage !== undefined) info.stage = stage;
      if (t.lastError !== undefined) info.lastError = t.lastError;
      return info;
    });
  }

  // ---- internals ----

  private thread(index: number): SimThread {
    const t = Number.isInteger(index) ? this.threads[index] : undefined;
    if (!t) throw new SealingWorkerError('not_found', `worker #${index} not found`);
    return t;
  }

  private runState(t: SimThread): ThreadRunState {
    if (t.paused) return 'paused';
    if (t.sectorId === undefined) return 'idle';
    return PLAN_FLOWS[t.plan][t.state]?.waiting ? 'waiting' : 'running';
  }

  private stageOf(t: SimThread): string | undefined {
    return t.sectorId === undefined ? undefined : PLAN_FLOWS[t.plan][t.state]?.stage;
  }

  private duration(): number {
    const spread = this.jitter * (2 * this.rng.next() - 1);
    return Math.max(1, Math.round(this.stepMs * (1 + spread)));
  }

  private newSectorId(): string {
    return `s-t0${this.miner}-${this.nextSectorNumber()}`;
  }

  private pauseThread(t: SimThread, reason: SimPauseReason, at: number): void {
    t.paused = true;
    t.pauseReason = reason;
    t.drainPending = false;
    t.since = at;
    t.dueAt = Number.POSITIVE_INFINITY;
  }

  private becomeIdle(t: SimThread, at: number): void {
    t.sectorId = undefined;
    t.state = 'Empty';
    t.since = at;
    t.dueAt = at + this.idleMs;
    if (t.drainPending) this.pauseThread(t, 'drain', at);
  }

  private emit(t: SimThread, prev: string, next: string, event: string, at: number, failure?: SimTransition['failure']): void {
    if (this.listeners.size === 0) return;
    const tr: SimTransition = { index: t.index, plan: t.plan, location: t.location, prev, next, event, at };
    if (t.sectorId !== undefined) tr.sectorId = t.sectorId;
    if (failure) tr.failure = failure;
    for (const l of this.listeners) l(tr);
  }

  private completeStep(t: SimThread, at: number): void {
    if (t.sectorId === undefined) {
      // Idle: take a new task unless draining.
      if (t.drainPending) {
        this.pauseThread(t, 'drain', at);
        return;
      }
      t.sectorId = this.newSectorId();
    }
    const flow = PLAN_FLOWS[t.plan][t.state];
    if (!flow) {
      // Finished or Aborted (e.g. resumed there): the task is done, the thread takes the next one.
      this.becomeIdle(t, at);
      return;
    }
    const r = t.state === 'Empty' ? 1 : this.rng.next();
    if (r < this.permanentRate) {
      const desc = this.describeError(flow);
      this.emit(t, t.state, t.state, flow.event, at, { level: 'permanent', desc });
      t.lastError = `permanent: ${desc}`;
      this.pauseThread(t, 'error', at);
      return;
    }
    if (r < this.permanentRate + this.abortRate) {
      this.emit(t, t.state, 'Aborted', flow.event, at, { level: 'abort', desc: this.describeError(flow) });
      this.becomeIdle(t, at);
      return;
    }
    if (r < this.permanentRate + this.abortRate + this.temporaryRate) {
      this.emit(t, t.state, t.state, flow.event, at, { level: 'temporary', desc: this.describeError(flow) });
      t.dueAt = at + this.duration();
      return;
    }
    const taken: FlowStep = t.plan === 'sealer' && t.state === 'PC1Done' && this.syntheticRate > 0 && this.rng.next() < this.syntheticRate ? SYNTHETIC_PC2 : flow;
    const prev = t.state;
    t.state = taken.next;
    this.emit(t, prev, taken.next, taken.event, at);
    if (!PLAN_FLOWS[t.plan][t.state]) {
      this.becomeIdle(t, at);
      return;
    }
    t.since = at;
    t.dueAt = at + this.duration();
    if (t.drainPending) this.pauseThread(t, 'drain', at);
  }

  private describeError(flow: FlowStep): string {
    return `${flow.stage ?? flow.event}: ${this.rng.pick(ERROR_CAUSES)}`;
  }
}
