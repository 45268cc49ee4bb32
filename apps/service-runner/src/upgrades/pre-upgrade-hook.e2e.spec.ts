import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPreUpgradeHook } from './pre-upgrade-hook';

const dir = mkdtempSync(path.join(tmpdir(), 'fv-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ctx = { service: 'provider1-LAV1', fromVersion: '0.1.0', toVersion: '0.2.0', binaryPath: '/x/lavap' };

function hook(name: string, body: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, `#!/bin/sh\n${body}\n`);
  chmodSync(f, 0o755);
  return f;
}

describe('pre-upgrade hook (Cosmovisor exit codes)', () => {
  it('0 and 1 go on; 30 fails; 31 retries until it passes or the retries run out', async () => {
    const seen = path.join(dir, 'env');
    expect(await runPreUpgradeHook(hook('ok', `echo "$FLEETVISOR_SERVICE $FLEETVISOR_TO_VERSION" > ${seen}; exit 0`), ctx)).toEqual({ ok: true });
    expect(readFileSync(seen, 'utf8').trim()).toBe('provider1-LAV1 0.2.0');
    expect(await runPreUpgradeHook(hook('ni', 'exit 1'), ctx)).toEqual({ ok: true });
    expect(await runPreUpgradeHook(hook('fail', 'exit 30'), ctx)).toEqual({ ok: false, reason: 'pre-upgrade hook failed the upgrade (exit 30)' });
    const count = path.join(dir, 'count');
    writeFileSync(count, '');
    const retryThenOk = hook('retry', `echo x >> ${count}; [ $(wc -l < ${count}) -ge 3 ] && exit 0; exit 31`);
    expect(await runPreUpgradeHook(retryThenOk, ctx, { retryDelayMs: 10 })).toEqual({ ok: true });
    expect(readFileSync(count, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(await runPreUpgradeHook(hook('always', 'exit 31'), ctx, { retryDelayMs: 5, maxRetries: 2 })).toMatchObject({ ok: false, reason: expect.stringMatching(/retry 3 times/) });
    expect(await runPreUpgradeHook(hook('other', 'exit 2'), ctx)).toMatchObject({ ok: false, reason: 'pre-upgrade hook exited with 2' });
  });
});
