// The verdict on the pre-upgrade hook's exit code (Cosmovisor's codes) and the retry loop over
// it, with the command run by a fake exec (the real one is pre-upgrade-hook.e2e.spec.ts).
import { describe, expect, it } from 'vitest';
import { judgeHookExit, runPreUpgradeHook } from './pre-upgrade-hook';

const ctx = { service: 'p1', fromVersion: '0.1.0', toVersion: '0.2.0', binaryPath: '/x/lavap' };

describe('judgeHookExit', () => {
  it('0 and 1 (not implemented) go on; 30 fails; anything else fails naming the code', () => {
    expect(judgeHookExit(0, 0, 5)).toEqual({ kind: 'ok' });
    expect(judgeHookExit(1, 0, 5)).toEqual({ kind: 'ok' });
    expect(judgeHookExit(30, 0, 5)).toEqual({ kind: 'fail', reason: 'pre-upgrade hook failed the upgrade (exit 30)' });
    expect(judgeHookExit(2, 0, 5)).toEqual({ kind: 'fail', reason: 'pre-upgrade hook exited with 2' });
    expect(judgeHookExit(null, 0, 5)).toEqual({ kind: 'fail', reason: 'pre-upgrade hook exited with a signal' });
  });

  it('31 retries while retries are left, then fails', () => {
    expect(judgeHookExit(31, 1, 2)).toEqual({ kind: 'retry' });
    expect(judgeHookExit(31, 2, 2)).toEqual({ kind: 'fail', reason: 'pre-upgrade hook asked to retry 3 times (exit 31)' });
  });
});

describe('runPreUpgradeHook', () => {
  it('passes the upgrade to the hook in its environment and waits longer before each retry', async () => {
    const codes = [31, 31, 31, 0];
    const envs: Record<string, string>[] = [];
    const waits: number[] = [];
    const result = await runPreUpgradeHook('/hook', ctx, {
      retryDelayMs: 100,
      exec: async (_c, env) => (envs.push(env), codes.shift()!),
      sleep: async (ms) => void waits.push(ms),
    });
    expect(result).toEqual({ ok: true });
    expect(envs[0]).toEqual({ PATH: '/usr/local/bin:/usr/bin:/bin', FLEETVISOR_SERVICE: 'p1', FLEETVISOR_FROM_VERSION: '0.1.0', FLEETVISOR_TO_VERSION: '0.2.0', FLEETVISOR_BINARY: '/x/lavap' });
    expect(waits).toEqual([100, 200, 400]);
  });

  it("gives the hook the runner's child environment and its own variables, nothing else", async () => {
    const envs: Record<string, string>[] = [];
    await runPreUpgradeHook('/hook', ctx, { baseEnv: { PATH: '/opt/bin', HOME: '/home/op', TZ: 'UTC' }, exec: async (_c, env) => (envs.push(env), 0) });
    expect(envs[0]).toEqual({ PATH: '/opt/bin', HOME: '/home/op', TZ: 'UTC', FLEETVISOR_SERVICE: 'p1', FLEETVISOR_FROM_VERSION: '0.1.0', FLEETVISOR_TO_VERSION: '0.2.0', FLEETVISOR_BINARY: '/x/lavap' });
  });
});
