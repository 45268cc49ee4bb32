// One supervised child process: started from its binary link with its configured args, output to
// a rotating log file, restarted after a crash with capped exponential backoff, crash loops
// reported (and slowed to the maximum backoff, so a broken binary never spins the CPU), stopped
// with SIGTERM then SIGKILL after a grace. During an upgrade the coordinator holds automatic
// restarts and judges health itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ServiceCrashLooping, ServiceExited, ServiceRestarted, ServiceStarted, ServiceStopped, type ServiceRole, type ServiceState } from '@fleetvisor/contracts';
import { backoffDelay } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { RunnerTuning } from '../config';
import type { EventRecorder } from '../events/event-recorder';
import { writeFileAtomic } from '../home/atomic-file';
import { PasswordFeeder } from './password-feeder';
import { RotatingLog } from './rotating-log';

/** The part of the runner's tuning that supervision uses (documented on RunnerTuning). */
export type SupervisionTuning = Pick<
  RunnerTuning,
  'stopGraceMs' | 'restartInitialMs' | 'restartMaxMs' | 'healthyAfterMs' | 'crashLoopCrashes' | 'crashWindowMs' | 'logMaxBytes' | 'logFiles'
>;

export interface SupervisedSpec {
  name: string;
  role: ServiceRole;
  chainId?: string;
  binary: string;
  /** The link (or file) to run; resolved to a real path at every start. */
  command: string;
  args: string[];
  configPath: string;
  networkAddress?: string;
  logFile: string;
  pidFile: string;
  /** Password for the keyring prompt, when the service wants one. */
  password?: () => string | undefined;
  /** Also copy child output to this process's stdout/stderr (wrap, for containers). */
  echo?: boolean;
  /** Working directory (default: the config file's folder). */
  cwd?: string;
  /** The child's whole environment (nothing of the runner's is inherited beyond what is here). */
  env: Record<string, string>;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  at: string;
}

export interface BinaryResolver {
  resolve(link: string): string | undefined;
  reportedVersion(file: string): Promise<string | undefined>;
}

/** Kills a child left behind by a runner that died (kill -9): its pid file names it and its binary. */
export function reapOrphan(pidFile: string, log: Logger): void {
  if (!existsSync(pidFile)) return;
  try {
    const { pid, binaryPath } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; binaryPath: string };
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline.some((a) => a === binaryPath)) {
      log.warn({ pid, binaryPath }, 'stopping a child left by a previous runner');
      process.kill(pid, 'SIGKILL');
    }
  } catch {
    // not running any more, or not ours
  }
  rmSync(pidFile, { force: true });
}

export class SupervisedService {
  state: ServiceState = 'stopped';
  restarts = 0;
  pid: number | undefined;
  startedAt: Date | undefined;
  version: string | undefined;
  binaryPath: string | undefined;
  lastExit: ExitInfo | undefined;

  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private expectedExit = false;
  private autoRestart = true;
  private wanted = false;
  private attempt = 0;
  private crashes: number[] = [];
  private looping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly output: RotatingLog;

  constructor(
    readonly spec: SupervisedSpec,
    private readonly tuning: SupervisionTuning,
    private readonly binaries: BinaryResolver,
    private readonly recorder: EventRecorder,
    logger: Logger,
  ) {
    this.log = logger.child({ service: spec.name });
    this.output = new RotatingLog(spec.logFile, tuning.logMaxBytes, tuning.logFiles);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the process (no-op when it runs). Resolves once spawned (or failed to spawn). */
  async start(): Promise<void> {
    this.wanted = true;
    this.autoRestart = true;
    this.clearRestartTimer();
    if (this.child) return;
    await this.spawnChild();
  }

  /** Stops on purpose and keeps it down: SIGTERM, SIGKILL after the grace. */
  async stop(reason: string, actor?: string): Promise<void> {
    this.wanted = false;
    this.clearRestartTimer();
    await this.terminate();
    this.state = 'stopped';
    this.recorder.record(ServiceStopped, { host: this.recorder.host, service: this.spec.name, reason, ...(actor ? { actor } : {}) });
  }

  /**
   * Stops the current process (if any) and starts again from the link. With hold, a crash is not
   * restarted automatically (the upgrade coordinator decides), until release().
   */
  async restart(opts: { hold?: boolean } = {}): Promise<void> {
    this.wanted = true;
    this.clearRestartTimer();
    await this.terminate();
    this.autoRestart = !opts.hold;
    if (opts.hold) this.state = 'upgrading';
    this.attempt = 0;
    this.crashes = [];
    this.looping = false;
    await this.spawnChild();
  }

  release(): void {
    this.autoRestart = true;
    if (this.child) this.state = 'running';
    else if (this.wanted) this.scheduleRestart();
  }

  /** The exit of the current process (for health checks); undefined when none runs. */
  currentExit(): Promise<ExitInfo> | undefined {
    return this.exited;
  }

  private clearRestartTimer(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return;
    this.expectedExit = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.child === child) {
        this.log.warn({ pid: child.pid, graceMs: this.tuning.stopGraceMs }, 'did not stop after SIGTERM; SIGKILL');
        child.kill('SIGKILL');
      }
    }, this.tuning.stopGraceMs);
    await exited;
    clearTimeout(timer);
  }

  private async spawnChild(): Promise<void> {
    const binaryPath = this.binaries.resolve(this.spec.command);
    if (!binaryPath) {
      this.log.error({ link: this.spec.command }, 'binary link missing or dangling; cannot start');
      this.lastExit = { code: 127, signal: null, at: new Date().toISOString() };
      this.onCrash();
      return;
    }
    const version = (await this.binaries.reportedVersion(binaryPath)) ?? (path.basename(path.dirname(binaryPath)).replace(/^v/, '') || 'unknown');
    if (!this.wanted || this.child) return;
    this.state = 'starting';
    let child: ChildProcess;
    try {
      child = spawn(binaryPath, this.spec.args, {
        cwd: this.spec.cwd ?? path.dirname(this.spec.configPath),
        env: this.spec.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'spawn failed');
      this.lastExit = { code: 127, signal: null, at: new Date().toISOString() };
      this.onCrash();
      return;
    }
    this.child = child;
    this.expectedExit = false;
    const feeder = this.spec.password ? new PasswordFeeder(child.stdin!, this.spec.password) : undefined;
    const onData = (stream: NodeJS.WriteStream) => (d: Buffer) => {
      this.output.write(d);
      if (this.spec.echo) stream.write(d);
      feeder?.onOutput(d);
    };
    child.stdout!.on('data', onData(process.stdout));
    child.stderr!.on('data', onData(process.stderr));
    child.stdin!.on('error', () => undefined);
    this.exited = new Promise<ExitInfo>((resolve) => {
      let spawnError: Error | undefined;
      child.once('error', (e) => (spawnError = e));
      child.once('close', (code, signal) => {
        if (spawnError) this.log.error({ err: spawnError.message }, 'child process error');
        resolve({ code: code ?? (spawnError ? 127 : null), signal: signal ?? null, at: new Date().toISOString() });
      });
    });
    const started = Date.now();
    if (child.pid === undefined) {
      // spawn failed (ENOENT, EACCES): 'error' comes, then 'close'.
      const info = await this.exited;
      this.child = undefined;
      this.exited = undefined;
      this.lastExit = info;
      this.log.error({ binaryPath }, 'could not start the binary');
      this.onCrash();
      return;
    }
    this.pid = child.pid;
    this.startedAt = new Date(started);
    this.version = version;
    this.binaryPath = binaryPath;
    if (this.state === 'starting') this.state = this.autoRestart ? 'running' : 'upgrading';
    writeFileAtomic(this.spec.pidFile, JSON.stringify({ pid: child.pid, binaryPath, startedAt: this.startedAt.toISOString() }));
    this.recorder.record(ServiceStarted, { host: this.recorder.host, service: this.spec.name, pid: child.pid, version: safeVersion(version), binaryPath });
    this.log.info({ pid: child.pid, version, binaryPath }, 'service started');
    void this.exited.then((info) => this.onExit(child, info, Date.now() - started));
  }

  private onExit(child: ChildProcess, info: ExitInfo, ranMs: number): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.exited = undefined;
    this.lastExit = info;
    rmSync(this.spec.pidFile, { force: true });
    const expected = this.expectedExit;
    this.recorder.record(ServiceExited, {
      host: this.recorder.host,
      service: this.spec.name,
      pid: child.pid!,
      code: info.code,
      signal: info.signal,
      expected,
    });
    this.log[expected ? 'info' : 'warn']({ code: info.code, signal: info.signal, ranMs }, expected ? 'service stopped' : 'service exited');
    if (expected) return;
    if (ranMs >= this.tuning.healthyAfterMs) {
      this.attempt = 0;
      this.crashes = [];
      this.looping = false;
    }
    this.onCrash();
  }

  private onCrash(): void {
    this.state = 'exited';
    if (!this.wanted || !this.autoRestart) return;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < this.tuning.crashWindowMs);
    this.crashes.push(now);
    this.attempt++;
    let delay = backoffDelay(this.attempt, { initialMs: this.tuning.restartInitialMs, maxMs: this.tuning.restartMaxMs });
    if (this.crashes.length >= this.tuning.crashLoopCrashes) {
      delay = this.tuning.restartMaxMs;
      this.state = 'crash_looping';
      if (!this.looping) {
        this.looping = true;
        this.recorder.record(ServiceCrashLooping, {
          host: this.recorder.host,
          service: this.spec.name,
          crashes: this.crashes.length,
          windowMs: this.tuning.crashWindowMs,
          nextRetryMs: delay,
        });
        this.log.error({ crashes: this.crashes.length, nextRetryMs: delay }, 'service is crash looping; restarts slowed down');
      }
    } else {
      this.state = 'backoff';
    }
    this.recorder.record(ServiceRestarted, { host: this.recorder.host, service: this.spec.name, attempt: this.attempt, backoffMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.wanted && !this.child) {
        this.restarts++;
        void this.spawnChild();
      }
    }, delay);
  }

  closeLog(): void {
    this.output.close();
  }
}

const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
function safeVersion(v: string): string {
  return VERSION_RE.test(v) ? v : 'unknown';
}
