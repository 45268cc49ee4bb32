import { describe, expect, it } from 'vitest';
import { decideUpgrade, fallbackVersion } from './version-select';
import { parseVersionOutput } from './binary-store';

const pv = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.1', consumerMin: '0.21.0' };

describe('version selection', () => {
  it('uses the role-specific target and min', () => {
    expect(decideUpgrade('provider', pv, '0.22.5')).toMatchObject({ kind: 'upgrade', target: '0.23.2', min: '0.22.0', reason: 'provider_target 0.23.2 > running 0.22.5' });
    expect(decideUpgrade('consumer', pv, '0.20.0')).toMatchObject({ kind: 'upgrade', target: '0.23.1', reason: 'running 0.20.0 < consumer_min 0.21.0' });
    expect(decideUpgrade('consumer', pv, '0.23.1').kind).toBe('none');
    expect(decideUpgrade('provider', pv, '0.24.0').kind).toBe('none');
    expect(decideUpgrade('wrapped', pv, '0.1.0').kind).toBe('none');
    expect(decideUpgrade('provider', pv, '0.9.0')).toMatchObject({ kind: 'upgrade' }); // numeric, not lexical
    expect(decideUpgrade('provider', { ...pv, providerTarget: '0.10.0', providerMin: '0.9.0' }, '0.9.0').kind).toBe('upgrade');
    expect(decideUpgrade('provider', { ...pv, providerTarget: '0.10.0', providerMin: '0.9.0' }, '0.10.0').kind).toBe('none');
  });

  it('falls back to the highest installed version >= min that is newer than the running one', () => {
    expect(fallbackVersion(['0.21.0', '0.22.3', '0.22.10', '0.23.2', '0.30.0'], '0.22.0', '0.23.2', '0.21.0')).toBe('0.22.10');
    expect(fallbackVersion(['0.21.0'], '0.22.0', '0.23.2', '0.20.0')).toBeUndefined();
    expect(fallbackVersion(['0.22.1'], '0.22.0', '0.23.2', '0.22.5')).toBeUndefined();
  });

  it('reads the version out of `<binary> version` output', () => {
    expect(parseVersionOutput('0.23.2\n')).toBe('0.23.2');
    expect(parseVersionOutput('lavap version v1.2.10 (commit abc)')).toBe('1.2.10');
    expect(parseVersionOutput('no version here')).toBeUndefined();
  });
});
