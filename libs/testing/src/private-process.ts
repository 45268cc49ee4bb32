// Plumbing shared by the private servers: spawning a server process that dies with us, waiting for
// it to answer, and cleaning up whatever a test run leaves behind when it ends abnormally.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { childPids } from './processes';

// ---------------------------------------------------------------------------------------------
// Cleanup at exit

/** Something to undo synchronously if the process exits before the test called stop(). */
export interface ExitCleanup {
  cleanupSync(): void;
}

const live = new Set<ExitCleanup>();
let hooksInstalled = false;

function runExitCleanups(): void {
  for (const entry of [...live]) {
    live.delete(entry);
    try {
      entry.cleanupSync();
    } catch {
      // best effort: we are exiting
    }
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', runExitCleanups);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      runExitCleanups();
      // We were the only listener: keep the signal's default meaning (terminate) by raising it again.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    });
  }
}

/** Registers `entry` to run at process exit (or SIGINT/SIGTERM/SIGHUP); returns the function that unregisters it. */
export function onExitCleanup(entry: ExitCleanup): () => void {
  installExitHooks();
  live.add(entry);
  return () => {
    live.delete(entry);
  };
}

/** Removes a directory tree, ignoring errors (used on the way out). */
export function removeTreeSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
  } catch {
    // best effort
  }
}

// ---------------------------------------------------------------------------------------------
// Instance folders, and what a run killed with SIGKILL left behind

const OWNER_FILE = 'owner.pid';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of processes whose command line mentions `dir` (Linux /proc; empty elsewhere). */
function processesUsing(dir: string): number[] {
  if (!existsSync('/proc')) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const swept = new Set<string>();

/**
 * Removes instance folders (`<parent>/<prefix>*`) whose owning test process is dead: a run killed
 * with SIGKILL cannot clean up, and although its servers die with it (PR_SET_PDEATHSIG), their
 * folders stay. Any server process still naming the folder gets SIGKILL first. Once per process.
 */
export function sweepStaleInstanceDirs(parent: string, prefix: string, beforeRemove?: (dir: string) => void): void {
  const key = `${parent}\0${prefix}`;
  if (swept.has(key)) return;
  swept.add(key);
  let entries: string[];
  try {
    entries = readdirSync(parent).filter((e) => e.startsWith(prefix));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = path.join(parent, entry);
    let owner: number;
    try {
      owner = Number(readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
    } catch {
      continue; // not ours, or still being set up
    }
    if (!Number.isInteger(owner) || owner <= 0 || pidAlive(owner)) continue;
    for (const pid of processesUsing(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    try {
      beforeRemove?.(dir);
    } catch {
      // best effort
    }
    removeTreeSync(dir);
  }
}

/** A new instance folder `<parent>/<prefix>XXXXXX`, marked with our pid (after sweeping stale ones). */
export function createInstanceDir(parent: string, prefix: string, beforeRemoveStale?: (dir: string) => void): string {
  sweepStaleInstanceDirs(parent, prefix, beforeRemoveStale);
  const dir = mkdtempSync(path.join(parent, prefix));
  writeFileSync(path.join(dir, OWNER_FILE), `${process.pid}\n`);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Finding binaries

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH, symlinks resolved, or undefined. */
export function whichSync(name: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (isExecutable(file)) {
      try {
        return realpathSync(file);
      } catch {
        return file;
      }
    }
  }
  return undefined;
}

/** setpriv (util-linux) can give a child PR_SET_PDEATHSIG, so a server dies with the test process. */
let setprivPath: string | null | undefined;
function setpriv(): string | undefined {
  if (setprivPath === undefined) {
    setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((f) => isExecutable(f)) ?? null;
    if (setprivPath) {
      const probe = spawnSync(setprivPath, ['--pdeathsig', 'SIGKILL', '--', 'true'], { stdio: 'ignore', timeout: 5_000 });
      if (probe.status !== 0) setprivPath = null;
    }
  }
  return setprivPath ?? undefined;
}

// ---------------------------------------------------------------------------------------------
// OS users

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Looks up an OS user through `id` (so NSS sources count too); undefined if there is none. */
export function lookupOsUser(name: string): OsUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

// ---------------------------------------------------------------------------------------------
// Log files

/** The last `lines` lines of a log file ('' if it cannot be read). */
export function tailFile(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// A server process

export interface ManagedProcessSpec {
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  cwd?: string;
  /** Run as this OS user (we must be root). */
  user?: OsUser;
  env?: NodeJS.ProcessEnv;
}

/**
 * A server process in its own process group (so its children can be signalled with it) that gets
 * SIGKILL when the test process dies, even by SIGKILL (via setpriv --pdeathsig, where available).
 */
export class ManagedProcess {
  readonly pid: number;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    if (child.pid === undefined) throw new Error('spawn returned no pid');
    this.pid = child.pid;
    this.exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
    });
  }

  static async spawn(spec: ManagedProcessSpec): Promise<ManagedProcess> {
    const out = openSync(spec.logFile, 'a');
    try {
      const wrapper = setpriv();
      const [command, args] = wrapper
        ? [wrapper, ['--pdeathsig', 'SIGKILL', '--', spec.command, ...spec.args]]
        : [spec.command, spec.args];
      const child = spawn(command, args, {
        cwd: spec.cwd,
        ...(spec.env ? { env: spec.env } : {}),
        stdio: ['ignore', out, out],
        detached: true, // own process group: kill(-pid) reaches the server's children too
        ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', () => resolve());
        child.once('error', reject);
      });
      child.unref();
      return new ManagedProcess(child);
    } finally {
      closeSync(out);
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves when the main process has exited (for a supervisor that restarts what exits). */
  get exited(): Promise<void> {
    return this.exitPromise;
  }

  /** How it ended, e.g. `exit code 1` or `signal SIGKILL` (undefined while running). */
  get exitDescription(): string | undefined {
    if (!this.exitInfo) return undefined;
    return this.exitInfo.signal ? `signal ${this.exitInfo.signal}` : `exit code ${this.exitInfo.code}`;
  }

  /** Signals the main process only. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  /** Signals the whole process group (the server and every child it forked). */
  signalGroup(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {
      // group already empty
    }
  }

  /** True once no process of the group is left. */
  groupGone(): boolean {
    try {
      process.kill(-this.pid, 0);
      return false;
    } catch {
      return true;
    }
  }

  /** Resolves true when the main process has exited, false if `timeoutMs` passed first. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.exitPromise.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits (bounded) until the whole group is gone, e.g. after a SIGKILL of the group. */
  async waitGroupGone(timeoutMs: number): Promise<boolean> {
    await this.waitExit(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (!this.groupGone()) {
      if (Date.now() >= deadline) return false;
      await delay(10);
    }
    return true;
  }

  /**
   * SIGKILL to the group and to every descendant, then wait until all are gone. Descendants are
   * named one by one because a server may put its children in process groups of their own
   * (PostgreSQL's backends call setsid()): killing the group alone left a backend answering its
   * client for a moment after the "crash".
   */
  async killGroup(timeoutMs = 10_000): Promise<void> {
    const descendants = this.running ? descendantsOf(this.pid) : [];
    this.signalGroup('SIGKILL');
    for (const pid of descendants) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.waitGroupGone(timeoutMs);
    const deadline = Date.now() + timeoutMs;
    while (descendants.some(alive) && Date.now() < deadline) await delay(10);
  }

  /** `sig` to the main process; SIGKILL to the group if it has not exited within `graceMs`. */
  async terminate(sig: NodeJS.Signals, graceMs: number): Promise<void> {
    this.signal(sig);
    if (!(await this.waitExit(graceMs))) this.signalGroup('SIGKILL');
    await this.waitGroupGone(graceMs);
  }
}

/** A process that still runs (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may hold spaces itself.
    const state = text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every process below `root` in the process tree. */
export function descendantsOf(root: number): number[] {
  const out: number[] = [];
  const queue = childPids(root);
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    out.push(pid);
    queue.push(...childPids(pid));
  }
  return out;
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class ServerStartError extends Error {
  constructor(
    message: string,
    /** The port could not be bound (another process took it): worth retrying on another port. */
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'ServerStartError';
  }
}

/**
 * Polls `check` until it resolves; fails at `timeoutMs`, or at once if `proc` (when given) exits.
 * The error carries the end of the server's log (`log()`).
 */
export async function waitUntilReady(
  what: string,
  check: () => Promise<void>,
  opts: { timeoutMs: number; proc?: ManagedProcess; log: () => string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (opts.proc && !opts.proc.running) {
      const log = opts.log();
      throw new ServerStartError(`${what} exited during start-up (${opts.proc.exitDescription}); its log ends:\n${log}`, /address already in use/i.test(log));
    }
    try {
      await check();
      return;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const last = lastError instanceof Error ? lastError.message : String(lastError);
      throw new ServerStartError(`${what} did not answer within ${opts.timeoutMs} ms (last error: ${last}); its log ends:\n${opts.log()}`, false);
    }
    await delay(25);
  }
}
