import { describe, expect, it } from 'vitest';
import { versionProblems } from './devnet-shared';

const ok = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.23.2' };

describe('versionProblems (what the chain would refuse)', () => {
  it('accepts strict X.Y.Z with min <= target', () => {
    expect(versionProblems(ok)).toEqual([]);
    expect(versionProblems({ ...ok, providerTarget: '0.100.0', providerMin: '0.99.9' })).toEqual([]);
  });

  it.each(['0.23', 'v0.23.2', '0.23.2-rc1', '01.2.3', '', '1.2.3 '])('refuses "%s"', (v) => {
    expect(versionProblems({ ...ok, providerTarget: v })).toEqual([`--provider-target must be X.Y.Z, got "${v}"`]);
  });

  it('refuses min above target, comparing numerically', () => {
    expect(versionProblems({ ...ok, consumerMin: '0.23.10' })).toEqual(['--consumer-min 0.23.10 is above --consumer-target 0.23.2']);
    expect(versionProblems({ ...ok, providerMin: '0.9.0', providerTarget: '0.10.0' })).toEqual([]);
  });
});
