import { describe, expect, it } from 'vitest';
import type { ChainStatusEntry, FilecoinChainStatus } from '@fleetvisor/contracts';
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
    expect(formatChainStatus([], [])).toBe('no chain is watched\n');
  });

  const filecoin = (over: Partial<FilecoinChainStatus>): FilecoinChainStatus => ({ chainId: 'calibnet', mode: 'notify', leaderHost: 'cw-a', height: 2_104_331, miners: ['t01000', 't01001'], callsPerEpoch: 4.75, problems: [], ...over });

  it('lists the Filecoin chains in their own table: epoch, watch mode, calls per epoch, leader, miners', () => {
    const { leaderHost: _l, height: _h, callsPerEpoch: _c, ...bare } = filecoin({});
    const text = formatChainStatus(
      [],
      [
        filecoin({}),
        filecoin({ chainId: 'mainnet', mode: 'poll', notifyProblem: 'ws://lotus-b:1234/rpc/v1: WebSocket upgrade refused (HTTP 503)', miners: Array.from({ length: 200 }, (_, i) => `f0${2000 + i}`), callsPerEpoch: 416.333 }),
        { ...bare, chainId: 'devnet', mode: 'no_leader', miners: ['t09000'], problems: ['no replica leads this chain: timeout'] },
      ],
    );
    const [header, ...lines] = text.trimEnd().split('\n');
    expect(header).toMatch(/^FILECOIN CHAIN\s+WATCH\s+EPOCH\s+CALLS\/EPOCH\s+LEADER\s+MINERS\s+PROBLEMS$/);
    const col = (name: string, next: string) => lines.map((l) => l.slice(header!.indexOf(name), header!.indexOf(next)).trim());
    expect(col('WATCH', 'EPOCH')).toEqual(['notify', 'poll', 'no_leader']);
    expect(col('EPOCH', 'CALLS/EPOCH')).toEqual(['2104331', '2104331', '-']);
    expect(col('CALLS/EPOCH', 'LEADER')).toEqual(['4.8', '416.3', '-']);
    expect(col('LEADER', 'MINERS')).toEqual(['cw-a', 'cw-a', '-']);
    expect(col('MINERS', 'PROBLEMS')).toEqual(['t01000,t01001', 'f02000,f02001,f02002 +197', 't09000']);
    expect(lines.map((l) => l.slice(header!.indexOf('PROBLEMS')))).toEqual(['-', 'polling: ws://lotus-b:1234/rpc/v1: WebSocket upgrade refused (HTTP 503)', 'no replica leads this chain: timeout']);
  });

  it('shows the Lava table, then the Filecoin table', () => {
    const text = formatChainStatus([entry({})], [filecoin({})]);
    const blocks = text.split('\n\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatch(/^CHAIN\s+MODE/);
    expect(blocks[0]).toContain('lava-testnet-2');
    expect(blocks[1]).toMatch(/^FILECOIN CHAIN\s+WATCH/);
    expect(blocks[1]).toContain('calibnet');
  });
});
