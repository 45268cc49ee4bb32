// Optional pre-upgrade hook with Cosmovisor's exit codes: 0 = ok, 1 = not implemented (ok),
// 30 = fail the upgrade, 31 = retry (up to maxRetries, with backoff), anything else = fail.
import { spawn } from 'node:child_process';

export type HookResult = { ok: true } | { ok: false; reason: string };

function runOnce(command: string, env: Record<string, string>, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, [], { stdio: 'ignore', env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env }, timeout: timeoutMs });
    child.once('error', () => resolve(127));
    child.once('exit', (code) => resolve(code));
  });
}

export async function runPreUpgradeHook(
  command: string,
  ctx: { service: string; fromVersion: string; toVersion: string; binaryPath: string },
  opts: { maxRetries?: number; retryDelayMs?: number; timeoutMs?: number } = {},
): Promise<HookResult> {
  const env = {
    FLEETVISOR_SERVICE: ctx.service,
    FLEETVISOR_FROM_VERSION: ctx.fromVersion,
    FLEETVISOR_TO_VERSION: ctx.toVersion,
    FLEETVISOR_BINARY: ctx.binaryPath,
  };
  const maxRetries = opts.maxRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    const code = await runOnce(command, env, opts.timeoutMs ?? 10 * 60_000);
    if (code === 0 || code === 1) return { ok: true };
    if (code === 31 && attempt < maxRetries) {
      await new Promise((r) => setTimeout(r, (opts.retryDelayMs ?? 1_000) * 2 ** attempt));
      continue;
    }
    if (code === 31) return { ok: false, reason: `pre-upgrade hook asked to retry ${maxRetries + 1} times (exit 31)` };
    if (code === 30) return { ok: false, reason: 'pre-upgrade hook failed the upgrade (exit 30)' };
    return { ok: false, reason: `pre-upgrade hook exited with ${code ?? 'a signal'}` };
  }
}
