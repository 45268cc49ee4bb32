import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UpgradeStateStore } from './upgrade-state';

const dir = mkdtempSync(path.join(tmpdir(), 'fv-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('UpgradeStateStore', () => {
  it('reads a state file from before quarantines: each failed version (with its retry time) is quarantined', () => {
    writeFileSync(
      path.join(dir, 'upgrade-state.json'),
      JSON.stringify({ protocol: null, inProgress: {}, failures: { 'provider1-LAV1@0.3.0': { attempts: 3, nextRetryAt: '2026-01-01T00:00:00.000Z', reason: 'exited with code 1' }, 'x@not-a-version': { attempts: 1 } } }),
    );
    const s = new UpgradeStateStore(dir).get();
    expect(s.quarantine).toEqual({ 'provider1-LAV1': { '0.3.0': { stage: 'start', reason: 'exited with code 1', at: expect.any(String) } } });
    expect(s.lastGood).toEqual({});
  });
});
