import { describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, ChainAnomaly, EVENT_EXAMPLES } from '@fleetvisor/contracts';
import { chainResumePoint } from './chain-resume';

const v = (t: string) => ({ providerTarget: t, providerMin: '0.20.0', consumerTarget: t, consumerMin: '0.20.0' });
const changed = (height: number, to: string, from: string | null = null) =>
  newEvent(VersionChanged, 'lava-testnet-2', { chainId: 'lava-testnet-2', height, previous: from === null ? null : v(from), current: v(to) });

describe('chainResumePoint', () => {
  it('starts a chain the log never saw at genesis', () => {
    expect(chainResumePoint({ events: [] })).toBeUndefined();
  });

  it('continues above the highest recorded height with the last recorded version', () => {
    const anomaly = newEvent(ChainAnomaly, 'lava-testnet-2', { ...(EVENT_EXAMPLES.ChainAnomaly as object), chainId: 'lava-testnet-2', height: 140 } as never);
    expect(chainResumePoint({ events: [changed(5, '0.21.0'), changed(120, '0.22.1', '0.21.0'), anomaly] })).toEqual({ initialHeight: 141, version: v('0.22.1') });
  });

  it('continues above what the watcher scanned and what the last run saved, keeping the log version', () => {
    const events = [changed(5, '0.21.0'), changed(120, '0.22.1', '0.21.0')];
    expect(chainResumePoint({ events, scanCheckpoint: '300:2' })).toEqual({ initialHeight: 301, version: v('0.22.1') });
    expect(chainResumePoint({ events, scanCheckpoint: '300:2', saved: { height: 450, version: v('0.23.0') } })).toEqual({ initialHeight: 451, version: v('0.22.1') });
    expect(chainResumePoint({ events: [], saved: { height: 450, version: v('0.23.0') } })).toEqual({ initialHeight: 451, version: v('0.23.0') });
  });
});
