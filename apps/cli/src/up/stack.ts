// The processes `fleetvisor up` runs beside the backbone: each app's own entry point as a child
// process (apps never import each other), its JSON log lines passed on to this process's stderr
// tagged with the component, restarted with capped backoff if it dies, and stopped with SIGTERM
// (then SIGKILL after a grace) when `up` stops. Plain logic: the command wires it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { PARENT_PID_VARIABLE, type Env, type Logger } from '@fleetvisor/platform';
import { backoffDelay } from '@fleetvisor/messaging/core';
import { appProcess } from '../app-routes';

export interface ComponentSpec {
  /** Shown in logs, e.g. "chain-watcher" or "worker-agent w-02". */
  name: string;
  /** The app whose entry point runs (its compiled main.js) with `args`… */
  app?: string;
  args: string[];
  /** Node/V8 flags of the app's process (heap sizes are read only at start-up). */
  nodeFlags?: string[];
  /** …or any executable with `args` (tests). */
  file?: string;
  /** Extra environment on top of this process's (FLEETVISOR_* settings of the component). */
  env?: Record<string, string>;
  /** Variables of this process's environment the component must not get (a host's FLEETVISOR_DATABASE_*). */
  dropEnv?: RegExp;
}

export interface StackOptions {
  logger: Logger;
  baseEnv: Env;
  /** Grace between SIGTERM and SIGKILL on stop (default 5 s). */
  stopGraceMs?: number;
  /** Restart backoff: first delay, doubled per quick crash, capped (defaults 500 ms, 15 s). */
  restartBaseMs?: number;
  restartMaxMs?: number;
  /** Called with each line a component writes (stdout and stderr), already tagged. */
  onLine?: (component: string, line: string) => void;
}

interface Running {
  spec: ComponentSpec;
  child: ChildProcess | undefined;
  restarts: number;
  startedAt: number;
  timer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

/** `env` without the variables whose names match `drop`. */
export function withoutVariables(env: Env, drop: RegExp | undefined): Env {
  return drop ? Object.fromEntries(Object.entries(env).filter(([name]) => !drop.test(name))) : env;
}

/** Delay before restart number `restarts` (0-based) after a crash. */
export function restartDelay(restarts: number, baseMs: number, maxMs: number): number {
  return backoffDelay(restarts + 1, { initialMs: baseMs, maxMs });
}

export class Stack {
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private readonly grace: number;
  private readonly base: number;
  private readonly max: number;

  constructor(private readonly opts: StackOptions) {
    this.grace = opts.stopGraceMs ?? 5_000;
    this.base = opts.restartBaseMs ?? 500;
    this.max = opts.restartMaxMs ?? 15_000;
  }

  start(spec: ComponentSpec): void {
    if (this.running.has(spec.name)) throw new Error(`component ${spec.name} already runs`);
    const r: Running = { spec, child: undefined, restarts: 0, startedAt: 0, timer: undefined, exited: Promise.resolve() };
    this.running.set(spec.name, r);
    this.spawn(r);
  }

  /** pid per component (undefined while it waits to restart). */
  status(): { name: string; pid: number | undefined; restarts: number }[] {
    return [...this.running.values()].map((r) => ({ name: r.spec.name, pid: r.child?.pid, restarts: r.restarts }));
  }

  private spawn(r: Running): void {
    const { file, argv } = r.spec.app !== undefined ? appProcess(r.spec.app, r.spec.args, r.spec.nodeFlags) : { file: r.spec.file ?? '', argv: r.spec.args };
    if (file === '') throw new Error(`component ${r.spec.name} has neither an app nor a file to run`);
    const child = spawn(file, argv, { env: { ...withoutVariables(this.opts.baseEnv, r.spec.dropEnv), ...r.spec.env, [PARENT_PID_VARIABLE]: String(process.pid) }, stdio: ['ignore', 'pipe', 'pipe'] });
    r.child = child;
    r.startedAt = Date.now();
    const log = this.opts.logger.child({ process: r.spec.name });
    log.info({ pid: child.pid, app: r.spec.app ?? r.spec.file }, 'component started');
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => this.opts.onLine?.(r.spec.name, line));
    }
    r.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        r.child = undefined;
        resolve();
        if (this.stopping) return;
        // A component that ran a while before dying starts its backoff over.
        if (Date.now() - r.startedAt > this.max * 2) r.restarts = 0;
        const delay = restartDelay(r.restarts, this.base, this.max);
        r.restarts++;
        log.warn({ code, signal, restartInMs: delay, restarts: r.restarts }, 'component exited; restarting');
        r.timer = setTimeout(() => {
          r.timer = undefined;
          if (!this.stopping) this.spawn(r);
        }, delay);
      });
      child.once('error', (err) => log.error({ err }, 'component could not be started'));
    });
  }

  /** Stops every component: SIGTERM, then SIGKILL after the grace. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.running.values()].map(async (r) => {
        if (r.timer) clearTimeout(r.timer);
        const child = r.child;
        if (!child || child.exitCode !== null) return;
        child.kill('SIGTERM');
        const kill = setTimeout(() => {
          this.opts.logger.warn({ process: r.spec.name, graceMs: this.grace }, 'component ignored SIGTERM; killing it');
          child.kill('SIGKILL');
        }, this.grace);
        await r.exited;
        clearTimeout(kill);
      }),
    );
  }
}
