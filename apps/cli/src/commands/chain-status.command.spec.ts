import { describe, expect, it } from 'vitest';
import type { ChainStatusEntry } from '@fleetvisor/contracts';
import { formatChainStatus } from './chain-status.command';

const entry = (over: Partial<ChainStatusEntry>): ChainStatusEntry => ({
  chainId: 'lava-testnet-2',
  mode: 'websocket',
  leaderHost: 'cw-a',
  height: 1234,
  lagMs: 800,
  version: { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' },
  versionHeight: 1200,
  endpoint: 'http://127.0.0.1:26657',
  preferredEndpoint: true,
  wsConnected: true,
  rpcErrors: 0,
  problems: [],
  ...over,
});

describe('formatChainStatus', () => {
  it('puts the PROVIDER and CONSUMER versions under their headers, whatever their lengths', () => {
    const text = formatChainStatus([
      entry({}),
      entry({ chainId: 'lava-mainnet-1', version: { providerTarget: '10.123.45', providerMin: '10.0.0', consumerTarget: '1.0.0', consumerMin: '0.9.9' } }),
      entry({ chainId: 'c3', version: undefined, mode: 'starting' }),
    ]);
    const [header, ...lines] = text.trimEnd().split('\n');
    const provider = header!.indexOf('PROVIDER');
    const consumer = header!.indexOf('CONSUMER');
    const since = header!.indexOf('SINCE');
    expect(lines.map((l) => l.slice(provider, consumer).trim())).toEqual(['0.23.2/0.22.0', '10.123.45/10.0.0', '-']);
    expect(lines.map((l) => l.slice(consumer, since).trim())).toEqual(['0.23.2/0.22.0', '1.0.0/0.9.9', '-']);
    for (const l of lines) {
      expect(l[provider - 1]).toBe(' ');
      expect(l[consumer - 1]).toBe(' ');
      expect(l[consumer]).not.toBe(' ');
    }
  });

  it('says when no chain is watched', () => {
    expect(formatChainStatus([])).toBe('no chain is watched\n');
  });
});
