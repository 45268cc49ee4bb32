// Optional pre-upgrade hook with Cosmovisor's exit codes: 0 = ok, 1 = not implemented (ok),
// 30 = fail the upgrade, 31 = retry (up to maxRetries, with backoff), anything else = fail.
// The verdict on an exit code is a plain function; running the command is the HookExec seam.
import { spawn } from 'node:child_process';
import { backoffDelay } from '@fleetvisor/messaging/core';

export type HookResult = { ok: true } | { ok: false; reason: string };

export interface HookContext {
  service: string;
  fromVersion: string;
  toVersion: string;
  binaryPath: string;
}

/** Runs the hook command once with these variables; resolves with its exit code (null: killed by a signal). */
export type HookExec = (command: string, env: Record<string, string>, timeoutMs: number) => Promise<number | null>;

export interface HookOptions {
  maxRetries?: number;
  /** First wait before a retry asked for with exit 31; doubles up to retryMaxMs. */
  retryDelayMs?: number;
  retryMaxMs?: number;
  timeoutMs?: number;
  /** What the hook gets besides its own variables (PATH, HOME...); nothing else is inherited. */
  baseEnv?: Record<string, string>;
  exec?: HookExec;
  sleep?: (ms: number) => Promise<void>;
}

export type HookVerdict = { kind: 'ok' } | { kind: 'retry' } | { kind: 'fail'; reason: string };

/** What an exit code of the hook means on attempt `attempt` (0-based). */
export function judgeHookExit(code: number | null, attempt: number, maxRetries: number): HookVerdict {
  if (code === 0 || code === 1) return { kind: 'ok' };
  if (code === 31) return attempt < maxRetries ? { kind: 'retry' } : { kind: 'fail', reason: `pre-upgrade hook asked to retry ${maxRetries + 1} times (exit 31)` };
  if (code === 30) return { kind: 'fail', reason: 'pre-upgrade hook failed the upgrade (exit 30)' };
  return { kind: 'fail', reason: `pre-upgrade hook exited with ${code ?? 'a signal'}` };
}

export const spawnHook: HookExec = (command, env, timeoutMs) =>
  new Promise((resolve) => {
    const child = spawn(command, [], { stdio: 'ignore', env, timeout: timeoutMs });
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code));
  });

export async function runPreUpgradeHook(command: string, ctx: HookContext, opts: HookOptions = {}): Promise<HookResult> {
  const env = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    ...opts.baseEnv,
    FLEETVISOR_SERVICE: ctx.service,
    FLEETVISOR_FROM_VERSION: ctx.fromVersion,
    FLEETVISOR_TO_VERSION: ctx.toVersion,
    FLEETVISOR_BINARY: ctx.binaryPath,
  };
  const maxRetries = opts.maxRetries ?? 5;
  const exec = opts.exec ?? spawnHook;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const initialMs = opts.retryDelayMs ?? 1_000;
  for (let attempt = 0; ; attempt++) {
    const verdict = judgeHookExit(await exec(command, env, opts.timeoutMs ?? 10 * 60_000), attempt, maxRetries);
    if (verdict.kind === 'ok') return { ok: true };
    if (verdict.kind === 'fail') return { ok: false, reason: verdict.reason };
    await sleep(backoffDelay(attempt + 1, { initialMs, maxMs: Math.max(initialMs, opts.retryMaxMs ?? 60_000) }));
  }
}
