// What an earlier `fleetvisor up` may have left running: when up is killed with SIGKILL it cannot
// stop its tree, and the demo host's lavap processes (children of a service-runner that is meant to
// let its services outlive it) stay behind holding their ports. Everything that tree runs lives
// under up's state directory (binaries, configs), so a process whose command line names a path
// under it is one of ours; the next up stops those before it starts anything.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Leftover {
  pid: number;
  command: string;
}

/** Processes (other than this one) whose command line names a path under `stateDir`. */
export function findLeftovers(stateDir: string, opts: { procRoot?: string; self?: number } = {}): Leftover[] {
  const procRoot = opts.procRoot ?? '/proc';
  const self = opts.self ?? process.pid;
  const root = path.resolve(stateDir) + path.sep;
  const found: Leftover[] = [];
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === self) continue;
    let args: string[];
    try {
      args = readFileSync(path.join(procRoot, entry, 'cmdline'), 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
    if (args.some((a) => path.isAbsolute(a) && (a + path.sep).startsWith(root))) found.push({ pid, command: args.join(' ') });
  }
  return found;
}

/** Whether a process with this pid exists (one we may not signal counts). */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops the leftovers: SIGTERM, then SIGKILL for those still there after `graceMs`. Returns them. */
export async function reapLeftovers(stateDir: string, opts: { graceMs?: number; procRoot?: string } = {}): Promise<Leftover[]> {
  const found = findLeftovers(stateDir, opts.procRoot ? { procRoot: opts.procRoot } : {});
  for (const p of found) {
    try {
      process.kill(p.pid, 'SIGTERM');
    } catch {
      // exited meanwhile
    }
  }
  const deadline = Date.now() + (opts.graceMs ?? 3_000);
  while (found.some((p) => processRunning(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const p of found.filter((x) => processRunning(x.pid))) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
