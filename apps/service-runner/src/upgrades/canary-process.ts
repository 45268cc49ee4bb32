// One canary run (ADR 0008): a quarantined version's binary started beside the running service,
// never touching it: a copy of the service's lavap config with every listener moved to a spare
// loopback port (canary-policy.ts), its own working folder under tmp/, its own log file
// (logs/<service>.canary.log, kept for the operator to read), the same arguments otherwise (same
// key, keyring backend, chain, node: the keyring is only read, and the password is fed as for the
// service). Judged like an upgrade (stays up for the stable window, answers the probe on its spare
// address), then stopped (SIGTERM, SIGKILL after the grace) and its folder removed. A runner that
// dies during a canary leaves a pid file, and the next runner stops that canary at start.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, type Logger } from '@fleetvisor/platform';
import type { ServiceDefinition } from '../home/runner-home';
import { writeFileAtomic } from '../home/atomic-file';
import { LogTail } from '../supervision/log-tail';
import { PasswordFeeder } from '../supervision/password-feeder';
import { processStartTime, readPidRecord, type PidRecord } from '../supervision/process-identity';
import { stopRecorded, type ExitInfo } from '../supervision/supervised-service';
import { canaryArgs, canaryConfig } from './canary-policy';
import { checkHealth } from './health-check';

export interface CanaryRun {
  service: string;
  version: string;
  binaryPath: string;
  def: ServiceDefinition;
  /** The child's whole environment (the service's own). */
  env: Record<string, string>;
  password?: () => string | undefined;
  /** The probe on the canary's spare address; `none` falls back to tcp: a canary that is only "up" proves little. */
  probe: 'none' | 'tcp' | 'http';
  stableMs: number;
  timeoutMs: number;
  stopGraceMs: number;
}

export type CanaryResult = { ok: true; reason: string; address?: string } | { ok: false; stage: 'start' | 'health'; reason: string; address?: string };

/** Starts and judges a canary (the seam the retry policy is tested through). */
export interface CanaryStarter {
  run(r: CanaryRun): Promise<CanaryResult>;
}

/** Spare ports asked of the OS per canary: the config's endpoints, the metrics listener, listener flags. */
const SPARE_PORTS = 8;

export class ProcessCanary implements CanaryStarter {
  constructor(
    private readonly o: {
      /** Where canary folders are made (the home's tmp/). */
      workDir: string;
      /** logs/<service>.canary.log */
      logFile: (service: string) => string;
      /** state/<service>.canary.pid */
      pidFile: (service: string) => string;
      logger: Logger;
    },
  ) {}

  /** A canary a killed runner left behind is stopped (its identity checked, never a recycled pid). */
  async reapLeftover(service: string, graceMs: number): Promise<void> {
    const file = this.o.pidFile(service);
    const r = readPidRecord(file);
    if (r) await stopRecorded(r, graceMs, this.o.logger);
    rmSync(file, { force: true });
  }

  async run(r: CanaryRun): Promise<CanaryResult> {
    mkdirSync(this.o.workDir, { recursive: true });
    const dir = mkdtempSync(path.join(this.o.workDir, `canary-${r.service}-`));
    const pidFile = this.o.pidFile(r.service);
    let child: ChildProcess | undefined;
    let tail: LogTail | undefined;
    let exited: Promise<ExitInfo> | undefined;
    try {
      const ports: number[] = [];
      for (let i = 0; i < SPARE_PORTS; i++) ports.push(await freePort());
      const port = (): number => {
        const p = ports.shift();
        if (p === undefined) throw new Error(`the service listens on more than ${SPARE_PORTS} addresses; no spare port left for its canary`);
        return p;
      };
      const cfg = canaryConfig(readFileSync(r.def.configPath, 'utf8'), port);
      const cfgPath = path.join(dir, path.basename(r.def.configPath));
      writeFileSync(cfgPath, cfg.text, { mode: 0o600 });
      const args = canaryArgs(r.def.args, r.def.configPath, cfgPath, port);
      const logFile = this.o.logFile(r.service);
      const fd = openSync(logFile, 'w', 0o640);
      try {
        child = spawn(r.binaryPath, args, { cwd: dir, env: r.env, stdio: [r.password ? 'pipe' : 'ignore', fd, fd] });
      } finally {
        closeSync(fd);
      }
      const c = child;
      exited = new Promise<ExitInfo>((resolve) => {
        let spawnError: Error | undefined;
        c.once('error', (e) => (spawnError = e));
        c.once('close', (code, signal) => resolve({ code: code ?? (spawnError ? 127 : null), signal: signal ?? null, at: new Date().toISOString() }));
      });
      c.stdin?.on('error', () => undefined);
      if (c.pid !== undefined) {
        const rec: PidRecord = { pid: c.pid, startTime: processStartTime(c.pid) ?? '', binaryPath: r.binaryPath, version: r.version, startedAt: new Date().toISOString(), runnerPid: process.pid };
        writeFileAtomic(pidFile, JSON.stringify(rec));
      }
      if (r.password && c.stdin) {
        const stdin = c.stdin;
        const feeder = new PasswordFeeder(stdin, r.password);
        const t = new LogTail(logFile, 0, (d) => {
          if (!feeder.onOutput(d)) return;
          stdin.end();
          t.stop();
        });
        tail = t;
        t.start();
      }
      const probe = r.probe === 'none' ? 'tcp' : r.probe;
      const address = cfg.networkAddress;
      this.o.logger.info({ service: r.service, version: r.version, address, dir }, 'canary started');
      const h = await checkHealth({ exited: c.pid === undefined ? undefined : exited, stableMs: r.stableMs, timeoutMs: r.timeoutMs, probe: address ? probe : 'none', networkAddress: address });
      if (h.ok) return { ok: true, reason: `up ${r.stableMs} ms${address ? ` and answered ${probe.toUpperCase()} on ${address}` : ''}`, ...(address ? { address } : {}) };
      return { ok: false, stage: h.stage, reason: h.reason, ...(address ? { address } : {}) };
    } catch (e) {
      return { ok: false, stage: 'start', reason: (e as Error).message };
    } finally {
      tail?.stop();
      if (child && exited && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const c = child;
        c.kill('SIGTERM');
        const timer = setTimeout(() => c.kill('SIGKILL'), r.stopGraceMs);
        await exited;
        clearTimeout(timer);
      }
      rmSync(pidFile, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
