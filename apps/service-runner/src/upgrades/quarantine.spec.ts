import { describe, expect, it } from 'vitest';
import type { ProtocolVersion } from '@fleetvisor/contracts';
import { liftedByVersionChange, startVersion, type ServiceQuarantine } from './quarantine';

const q = (...versions: string[]): ServiceQuarantine => Object.fromEntries(versions.map((v) => [v, { stage: 'start' as const, reason: 'exited with code 1', at: '2026-01-01T00:00:00.000Z' }]));
const pv = (provider: string, consumer = provider, min = '0.1.0'): ProtocolVersion => ({ providerTarget: provider, providerMin: min, consumerTarget: consumer, consumerMin: min });

describe('startVersion (what a service starts on)', () => {
  it('keeps a link that is not quarantined', () => {
    expect(startVersion({ linked: '0.2.0', quarantined: q('0.3.0'), lastGood: '0.1.0', installed: ['0.1.0', '0.2.0', '0.3.0'] })).toEqual({ kind: 'keep' });
    expect(startVersion({ linked: undefined, quarantined: q('0.3.0'), lastGood: undefined, installed: [] })).toEqual({ kind: 'keep' });
  });

  it('never starts a quarantined version: the last good one, else the newest usable one below', () => {
    expect(startVersion({ linked: '0.3.0', quarantined: q('0.3.0'), lastGood: '0.1.0', installed: ['0.1.0', '0.2.0', '0.3.0'] })).toMatchObject({ kind: 'switch', version: '0.1.0' });
    expect(startVersion({ linked: '0.3.0', quarantined: q('0.3.0'), lastGood: undefined, installed: ['0.1.0', '0.2.0', '0.3.0', '0.4.0'] })).toMatchObject({ kind: 'switch', version: '0.2.0' });
    // The last good one is gone or quarantined itself.
    expect(startVersion({ linked: '0.3.0', quarantined: q('0.3.0', '0.2.0'), lastGood: '0.2.0', installed: ['0.1.0', '0.2.0', '0.3.0'] })).toMatchObject({ kind: 'switch', version: '0.1.0' });
    expect(startVersion({ linked: '0.3.0', quarantined: q('0.3.0'), lastGood: '0.2.0', installed: ['0.3.0'] })).toMatchObject({ kind: 'stuck' });
  });
});

describe('liftedByVersionChange (whether a VersionChanged retries a quarantined version)', () => {
  it('the same target again lifts nothing (replay, another min)', () => {
    expect(liftedByVersionChange('provider', pv('0.3.0'), pv('0.3.0', '0.3.0', '0.2.0'), q('0.3.0'))).toEqual([]);
  });
  it('a target that moved elsewhere lifts nothing; the target announced anew lifts it', () => {
    expect(liftedByVersionChange('provider', pv('0.3.0'), pv('0.4.0'), q('0.3.0'))).toEqual([]);
    expect(liftedByVersionChange('provider', pv('0.4.0'), pv('0.3.0'), q('0.3.0'))).toEqual(['0.3.0']);
    expect(liftedByVersionChange('provider', undefined, pv('0.3.0'), q('0.3.0'))).toEqual(['0.3.0']);
  });
  it('follows the role: a consumer change does not lift a provider quarantine', () => {
    expect(liftedByVersionChange('provider', pv('0.3.0', '0.2.0'), pv('0.3.0', '0.3.0'), q('0.3.0'))).toEqual([]);
    expect(liftedByVersionChange('consumer', pv('0.3.0', '0.2.0'), pv('0.3.0', '0.3.0'), q('0.3.0'))).toEqual(['0.3.0']);
    expect(liftedByVersionChange('wrapped', undefined, pv('0.3.0'), q('0.3.0'))).toEqual([]);
  });
});
