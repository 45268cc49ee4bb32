// One supervised child process: started from its binary link with its configured args, output to
// a rotating log file, restarted after a crash with capped exponential backoff, crash loops
// reported (and slowed to the maximum backoff, so a broken binary never spins the CPU), stopped
// with SIGTERM then SIGKILL after a grace. During an upgrade the coordinator holds automatic
// restarts and judges health itself.
// Live-restore (ADR 0007): a child of `start` writes its log file itself and runs in its own
// session, so nothing ties it to the runner's life; a runner that starts again adopts it (watches
// it by polling /proc, since it is not its parent) and supervises it as one it started.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ServiceCrashLooping, ServiceExited, ServiceRestarted, ServiceStarted, ServiceStopped, type ServiceRole, type ServiceState } from '@fleetvisor/contracts';
import { backoffDelay } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { RunnerTuning } from '../config';
import type { EventRecorder } from '../events/event-recorder';
import { writeFileAtomic } from '../home/atomic-file';
import { LogTail } from './log-tail';
import { PasswordFeeder } from './password-feeder';
import { processArgs, processStartTime, stillRunning, watchProcess, type PidRecord, type ProcessWatch } from './process-identity';
import { RotatingLog } from './rotating-log';

/**
 * How often an adopted process (not this runner's child: no exit event) is looked at in /proc:
 * every second while it runs (a death is seen within the first restart backoff), every 100 ms once
 * the runner signalled it (a stop or an upgrade waits for it to go).
 */
export const ADOPTED_POLL = { idleMs: 1_000, hurriedMs: 100 } as const;
/** How often a log file the child writes itself is checked for rotation. */
const ROTATION_CHECK_MS = 1_000;

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
  /** Every chunk of the child's output, as written (attention patterns; see service-checks.ts). */
  onOutput?: (chunk: Buffer) => void;
  /** A process of the service started or was adopted, and when it ended. */
  onRunStart?: () => void;
  onRunEnd?: () => void;
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

/** A process of this service: a child this runner spawned, or one it adopted from its previous life. */
interface RunningProcess {
  readonly pid: number;
  readonly exited: Promise<ExitInfo>;
  signal(sig: NodeJS.Signals): void;
  /** Stops watching it and lets it run on without this runner (live-restore). */
  release(): void;
}

function adoptedProcess(r: PidRecord): RunningProcess {
  let watch: ProcessWatch | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    // Not our child: its exit status went to whoever reaped it, so only the fact of the exit is known.
    watch = watchProcess(r.pid, r.startTime, ADOPTED_POLL, () => resolve({ code: null, signal: null, at: new Date().toISOString() }));
  });
  return {
    pid: r.pid,
    exited,
    // Signalled only while the pid is still that process: never a recycled pid.
    signal: (sig) => {
      if (processStartTime(r.pid) !== r.startTime) return;
      try {
        process.kill(r.pid, sig);
      } catch {
        return; // gone meanwhile
      }
      watch?.hurry();
    },
    release: () => watch?.stop(),
  };
}

/**
 * Stops a process a pid file names that is not adopted (live-restore off, or its binary is not the
 * service's link any more): SIGTERM, SIGKILL after the grace. Only that process: the identity
 * (pid + start time + binary) is checked first; a pid file of a runner before live-restore has no
 * start time and is matched on the command line alone.
 */
export async function stopRecorded(r: PidRecord, graceMs: number, log: Logger): Promise<boolean> {
  const ours = r.startTime === '' ? (processArgs(r.pid)?.includes(r.binaryPath) ?? false) : stillRunning(r);
  if (!ours) return false;
  const startTime = processStartTime(r.pid);
  if (startTime === undefined) return false;
  log.warn({ pid: r.pid, binaryPath: r.binaryPath }, 'stopping a child left by a previous runner');
  const proc = adoptedProcess({ ...r, startTime });
  proc.signal('SIGTERM');
  const timer = setTimeout(() => proc.signal('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
  return true;
}

export class SupervisedService {
  state: ServiceState = 'stopped';
  restarts = 0;
  pid: number | undefined;
  startedAt: Date | undefined;
  version: string | undefined;
  binaryPath: string | undefined;
  lastExit: ExitInfo | undefined;
  /** The current process was started by an earlier life of the runner and adopted. */
  adopted = false;

  private child: RunningProcess | undefined;
  private tail: LogTail | undefined;
  private rotation: NodeJS.Timeout | undefined;
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

  /** The file the service's command runs now (its link resolved; a `command:` path as it is). */
  resolveCommand(): string | undefined {
    return this.binaries.resolve(this.spec.command);
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

  /**
   * Takes over a process an earlier life of the runner started (the caller checked it is that
   * process and runs the service's binary): watched, restarted when it dies, stopped by signal.
   */
  adopt(r: PidRecord): void {
    this.wanted = true;
    this.autoRestart = true;
    this.clearRestartTimer();
    if (this.child) return;
    const proc = adoptedProcess(r);
    this.child = proc;
    this.exited = proc.exited;
    this.expectedExit = false;
    this.adopted = true;
    this.pid = r.pid;
    const since = Date.parse(r.startedAt);
    this.startedAt = new Date(Number.isNaN(since) ? Date.now() : since);
    this.version = r.version;
    this.binaryPath = r.binaryPath;
    this.state = 'running';
    writeFileAtomic(this.spec.pidFile, JSON.stringify({ ...r, runnerPid: process.pid } satisfies PidRecord));
    this.watchRotation();
    const onOutput = this.spec.onOutput;
    if (onOutput) {
      // Only what it prints from now on: what it printed before was the previous runner's to read.
      let from = 0;
      try {
        from = statSync(this.spec.logFile).size;
      } catch {
        // no log file yet
      }
      this.tail = new LogTail(this.spec.logFile, from, onOutput);
      this.tail.start();
    }
    this.spec.onRunStart?.();
    this.recorder.record(ServiceStarted, { host: this.recorder.host, service: this.spec.name, pid: r.pid, version: safeVersion(r.version), binaryPath: r.binaryPath, adopted: true });
    this.log.info({ pid: r.pid, version: r.version, binaryPath: r.binaryPath, startedAt: r.startedAt }, 'service adopted from the previous runner (still running)');
    const startedAt = this.startedAt.getTime();
    void proc.exited.then((info) => this.onExit(proc, info, Date.now() - startedAt));
  }

  /**
   * Live-restore at runner stop: the process keeps running, unwatched, its pid file kept for the
   * next runner to adopt. Nothing is recorded: the service did not stop.
   */
  leave(): void {
    this.wanted = false;
    this.clearRestartTimer();
    const proc = this.child;
    this.stopWatching();
    if (!proc) return;
    proc.release();
    this.child = undefined;
    this.exited = undefined;
    this.log.info({ pid: proc.pid }, 'service left running (live-restore)');
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
    child.signal('SIGTERM');
    const timer = setTimeout(() => {
      if (this.child === child) {
        this.log.warn({ pid: child.pid, graceMs: this.tuning.stopGraceMs }, 'did not stop after SIGTERM; SIGKILL');
        child.signal('SIGKILL');
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
    // `start`: the child writes its log file itself, in a session of its own (no terminal signal of
    // the runner's reaches it), with no pipe to the runner it could die on (SIGPIPE) once the runner
    // is gone. `wrap` (echo) keeps pipes: it copies the output to its own stdout, and a container's
    // children go with it.
    const own = !this.spec.echo;
    let logFd: number | undefined;
    let child: ChildProcess;
    try {
      logFd = own ? this.output.openForChild() : undefined;
      const logFrom = logFd !== undefined ? fstatSync(logFd).size : 0;
      child = spawn(binaryPath, this.spec.args, {
        cwd: this.spec.cwd ?? path.dirname(this.spec.configPath),
        env: this.spec.env,
        // stdin is a pipe only for the keyring prompt, ended once answered: an adopted child's stdin
        // is then the same closed pipe whether the runner that fed it lives or not.
        stdio: [this.spec.password ? 'pipe' : own ? 'ignore' : 'pipe', logFd ?? 'pipe', logFd ?? 'pipe'],
        detached: own,
      });
      const onOutput = this.spec.onOutput;
      if (own && ((this.spec.password && child.stdin) || onOutput)) {
        const stdin = this.spec.password ? child.stdin : null;
        let feeder = stdin ? new PasswordFeeder(stdin, this.spec.password!) : undefined;
        const tail = new LogTail(this.spec.logFile, logFrom, (d) => {
          onOutput?.(d);
          if (!feeder?.onOutput(d)) return;
          stdin!.end();
          feeder = undefined;
          // Still read for the attention patterns; otherwise its job is done.
          if (!onOutput) tail.stop();
        });
        this.tail = tail;
        tail.start();
      }
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'spawn failed');
      this.lastExit = { code: 127, signal: null, at: new Date().toISOString() };
      this.onCrash();
      return;
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
    if (!own) {
      const feeder = this.spec.password ? new PasswordFeeder(child.stdin!, this.spec.password) : undefined;
      const onData = (stream: NodeJS.WriteStream) => (d: Buffer) => {
        this.output.write(d);
        if (this.spec.echo) stream.write(d);
        this.spec.onOutput?.(d);
        feeder?.onOutput(d);
      };
      child.stdout!.on('data', onData(process.stdout));
      child.stderr!.on('data', onData(process.stderr));
    }
    child.stdin?.on('error', () => undefined);
    const exited = new Promise<ExitInfo>((resolve) => {
      let spawnError: Error | undefined;
      child.once('error', (e) => (spawnError = e));
      child.once('close', (code, signal) => {
        if (spawnError) this.log.error({ err: spawnError.message }, 'child process error');
        resolve({ code: code ?? (spawnError ? 127 : null), signal: signal ?? null, at: new Date().toISOString() });
      });
    });
    this.exited = exited;
    const started = Date.now();
    if (child.pid === undefined) {
      // spawn failed (ENOENT, EACCES): 'error' comes, then 'close'.
      const info = await exited;
      this.stopTail();
      this.exited = undefined;
      this.lastExit = info;
      this.log.error({ binaryPath }, 'could not start the binary');
      this.onCrash();
      return;
    }
    const pid = child.pid;
    const proc: RunningProcess = {
      pid,
      exited,
      signal: (sig) => void child.kill(sig),
      release: () => {
        // Nothing of the runner's may keep it alive or be held by the child: no listeners, no handle.
        child.stdin?.destroy();
        child.removeAllListeners();
        child.unref();
      },
    };
    this.child = proc;
    this.expectedExit = false;
    this.adopted = false;
    this.pid = pid;
    this.startedAt = new Date(started);
    this.version = version;
    this.binaryPath = binaryPath;
    if (this.state === 'starting') this.state = this.autoRestart ? 'running' : 'upgrading';
    const record: PidRecord = { pid, startTime: processStartTime(pid) ?? '', binaryPath, version, startedAt: this.startedAt.toISOString(), runnerPid: process.pid };
    writeFileAtomic(this.spec.pidFile, JSON.stringify(record));
    if (own) this.watchRotation();
    this.spec.onRunStart?.();
    this.recorder.record(ServiceStarted, { host: this.recorder.host, service: this.spec.name, pid, version: safeVersion(version), binaryPath });
    this.log.info({ pid, version, binaryPath }, 'service started');
    void exited.then((info) => this.onExit(proc, info, Date.now() - started));
  }

  private watchRotation(): void {
    if (this.rotation) return;
    this.rotation = setInterval(() => {
      try {
        if (this.output.rotateIfFull()) this.tail?.rewind();
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'log rotation failed');
      }
    }, ROTATION_CHECK_MS);
    this.rotation.unref();
  }

  private stopTail(): void {
    this.tail?.stop();
    this.tail = undefined;
  }

  private stopWatching(): void {
    this.stopTail();
    if (this.rotation) clearInterval(this.rotation);
    this.rotation = undefined;
  }

  private onExit(child: RunningProcess, info: ExitInfo, ranMs: number): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.stopTail();
    this.exited = undefined;
    this.lastExit = info;
    rmSync(this.spec.pidFile, { force: true });
    this.spec.onRunEnd?.();
    const expected = this.expectedExit;
    this.recorder.record(ServiceExited, {
      host: this.recorder.host,
      service: this.spec.name,
      pid: child.pid,
      code: info.code,
      signal: info.signal,
      expected,
      // An adopted process's exit status is not ours to read (its parent was the previous runner).
      ...(info.code === null && info.signal === null ? { statusUnknown: true as const } : {}),
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
    this.stopWatching();
    this.output.close();
  }
}

const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
function safeVersion(v: string): string {
  return VERSION_RE.test(v) ? v : 'unknown';
}
