// Where the time goes: CPU used by this process (the client: our library or Emmett) and by the
// Postgres backends serving it, over one measurement. Wall-clock rates move with the load other
// work puts on the machine; CPU per event mostly does not, so both are reported. Server CPU is read
// from /proc/<backend pid>/stat, so it is only known when Postgres runs on this machine.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Pool } from 'pg';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process in ms, or undefined when it cannot be read (not local, gone). */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A Postgres in a container reports pids of its own namespace: only trust a postgres process.
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') return undefined;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/**
 * utime + stime in ms, by pid, of every process on this machine whose command name is `name`
 * (`postgres`: backends, checkpointer, WAL writer...; `nats-server`). With cpuMsSince, a benchmark
 * can say where the machine's cores went.
 */
export function processesCpu(name: string): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== name) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(pid), ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond());
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * CPU ms used since `before` by the processes named `name`: what the live ones added, and all of
 * what new ones used. A process that ended meanwhile (an idle pool connection closed) is not
 * counted, so this can be a little low, never negative.
 */
export function cpuMsSince(name: string, before: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, ms] of processesCpu(name)) total += ms - Math.min(ms, before.get(pid) ?? 0);
  return total;
}

export interface CpuUse {
  /** CPU of this Node process (user + system), ms. */
  clientMs: number;
  /** CPU of the Postgres backends of this process's connections, ms (null when not measurable). */
  serverMs: number | null;
}

export interface CpuPerEvent {
  clientUs: number;
  serverUs: number | null;
}

async function backendPids(pool: Pool, applicationName: string): Promise<number[]> {
  const r = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1`,
    [applicationName],
  );
  return r.rows.map((x) => x.pid);
}

/** Starts measuring; call the returned function when the measured work is done. */
export async function startCpuMeter(pool: Pool, applicationName: string): Promise<() => Promise<CpuUse>> {
  const before = new Map<number, number>();
  let local = true;
  for (const pid of await backendPids(pool, applicationName)) {
    const ms = processCpuMs(pid);
    if (ms === undefined) local = false;
    else before.set(pid, ms);
  }
  const client0 = process.cpuUsage();
  return async () => {
    const c = process.cpuUsage(client0);
    const clientMs = (c.user + c.system) / 1000;
    if (!local) return { clientMs, serverMs: null };
    let serverMs = 0;
    for (const pid of await backendPids(pool, applicationName)) {
      const ms = processCpuMs(pid);
      if (ms === undefined) return { clientMs, serverMs: null };
      // A backend opened during the measurement started at 0.
      serverMs += ms - (before.get(pid) ?? 0);
    }
    return { clientMs, serverMs };
  };
}

export function perEvent(use: CpuUse, events: number): CpuPerEvent {
  const us = (ms: number): number => Math.round((ms * 1000 * 10) / Math.max(1, events)) / 10;
  return { clientUs: us(use.clientMs), serverUs: use.serverMs === null ? null : us(use.serverMs) };
}
