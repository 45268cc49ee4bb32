// Who a supervised process is, across runner lives: the pid file a runner writes for each child
// (pid, the kernel's start time of that pid, the binary, the version) and the checks a runner that
// starts again makes before it adopts or stops what the file names. A pid alone is not enough: the
// kernel recycles pids, and a recycled pid has another start time (/proc/<pid>/stat field 22,
// clock ticks since boot), so the pair (pid, start time) names one process for the life of the boot.
import { existsSync, readFileSync } from 'node:fs';

export interface PidRecord {
  pid: number;
  /** /proc/<pid>/stat field 22 (starttime, in clock ticks since boot), as a decimal string. */
  startTime: string;
  /** The resolved binary the process was started from. */
  binaryPath: string;
  version: string;
  /** When the runner started it (ISO time): the uptime an adopting runner reports. */
  startedAt: string;
  /** The runner that started it. */
  runnerPid: number;
}

/** Field 22 of /proc/<pid>/stat, or undefined when the pid does not exist (or cannot be read). */
export function processStartTime(pid: number, procRoot = '/proc'): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2 (comm) is in parentheses and may hold spaces or ')': fields after it follow the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); field 22 is rest[19].
  const state = rest[0];
  if (state === 'Z' || state === 'X') return undefined; // a zombie has exited already: nothing to adopt or watch
  const start = rest[19];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/** The process's argument list (/proc/<pid>/cmdline), or undefined when it is gone. */
export function processArgs(pid: number, procRoot = '/proc'): string[] | undefined {
  try {
    return readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return undefined;
  }
}

/**
 * True when the process the record names still runs: same pid, same start time, and its command
 * line names the recorded binary (the binary itself, or the script an interpreter runs).
 */
export function stillRunning(r: PidRecord, procRoot = '/proc'): boolean {
  if (processStartTime(r.pid, procRoot) !== r.startTime) return false;
  return processArgs(r.pid, procRoot)?.includes(r.binaryPath) ?? false;
}

/** The pid file's record, or undefined when there is none or it is unreadable or of an older runner. */
export function readPidRecord(file: string): PidRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<PidRecord>;
    if (typeof r.pid !== 'number' || !Number.isInteger(r.pid) || r.pid < 1 || typeof r.binaryPath !== 'string') return undefined;
    // Files of runners before live-restore carry no start time: such a process can be stopped, never adopted.
    return {
      pid: r.pid,
      startTime: typeof r.startTime === 'string' ? r.startTime : '',
      binaryPath: r.binaryPath,
      version: typeof r.version === 'string' ? r.version : 'unknown',
      startedAt: typeof r.startedAt === 'string' ? r.startedAt : new Date().toISOString(),
      runnerPid: typeof r.runnerPid === 'number' ? r.runnerPid : 0,
    };
  } catch {
    return undefined;
  }
}

/** A watch of a process that is not our child. */
export interface ProcessWatch {
  /** Look more often from now on (the process was just signalled: its exit is expected soon). */
  hurry(): void;
  stop(): void;
}

/**
 * Waits for a process the runner did not start (so cannot wait() for) to go: polls its start time
 * every `idleMs`, every `hurriedMs` once hurried. Node 20 has no pidfd API (pidfd_open is not
 * exposed, and a native addon is a dependency we do not take); a poll of /proc/<pid>/stat costs
 * one small read (ADR 0007 has the measurement).
 */
export function watchProcess(pid: number, startTime: string, o: { idleMs: number; hurriedMs: number }, onGone: () => void, procRoot = '/proc'): ProcessWatch {
  let interval = o.idleMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const look = (): void => {
    timer = undefined;
    if (stopped) return;
    if (processStartTime(pid, procRoot) !== startTime) {
      stopped = true;
      onGone();
      return;
    }
    timer = setTimeout(look, interval);
  };
  timer = setTimeout(look, interval);
  return {
    hurry: () => {
      if (stopped || interval === o.hurriedMs) return;
      interval = o.hurriedMs;
      if (timer) clearTimeout(timer);
      timer = setTimeout(look, interval);
    },
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
