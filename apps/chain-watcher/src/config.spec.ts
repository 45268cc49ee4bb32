import { describe, expect, it } from 'vitest';
import { loadChainWatcherConfig, parseChains } from './config';

describe('parseChains (FLEETVISOR_CHAINS)', () => {
  it('reads chains and endpoints in failover order', () => {
    expect(parseChains(' lava-testnet-2=http://a:26657, http://b:26657 ; other.chain=https://rpc.example.org/ ;')).toEqual([
      { chainId: 'lava-testnet-2', endpoints: ['http://a:26657', 'http://b:26657'] },
      { chainId: 'other.chain', endpoints: ['https://rpc.example.org/'] },
    ]);
  });

  it.each([
    [undefined, /FLEETVISOR_CHAINS: required/],
    ['lava-testnet-2', /must be <chain-id>=<endpoint>/],
    ['bad id=http://a', /invalid chain id "bad id"/],
    ['x=', /chain x has no endpoint/],
    ['x=ws://a:26657', /must be http:\/\/ or https:\/\//],
    ['x=not a url', /is not a URL/],
    ['x=http://a?key=secret', /must have no query/],
    ['x=http://a,http://a', /lists an endpoint twice/],
    ['x=http://a;x=http://b', /chain x is listed twice/],
  ])('refuses %j naming the variable', (text, message) => {
    expect(() => parseChains(text)).toThrow(message);
    expect(() => parseChains(text)).toThrow(/^FLEETVISOR_CHAINS: /);
  });

  it('never echoes credentials from a broken URL', () => {
    expect(() => parseChains('x=http://user:s3cret@[bad')).toThrow(/\*\*\*@/);
    try {
      parseChains('x=http://user:s3cret@[bad');
    } catch (e) {
      expect((e as Error).message).not.toContain('s3cret');
    }
  });
});

describe('loadChainWatcherConfig', () => {
  it('has defaults and validates every setting with its variable name', () => {
    const c = loadChainWatcherConfig({ FLEETVISOR_CHAINS: 'x=http://a' });
    expect(c).toMatchObject({ pollIntervalMs: 1_000, safetyNetBlocks: 10, httpPort: 9471, leaderRetryMs: 1_000, relay: true, maxGapScan: 5_000, backfillRps: 50 });
    expect(loadChainWatcherConfig({ FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_BACKFILL_RPS: '5' }).backfillRps).toBe(5);
    expect(() => loadChainWatcherConfig({ FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_BACKFILL_RPS: '0' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_BACKFILL_RPS: must be >= 1/);
    expect(loadChainWatcherConfig({ FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_POLL_INTERVAL: '250ms' }).pollIntervalMs).toBe(250);
    expect(() => loadChainWatcherConfig({ FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_SAFETY_NET_BLOCKS: '0' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_SAFETY_NET_BLOCKS: must be >= 1/);
    expect(() => loadChainWatcherConfig({ FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: 'abc' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_HTTP_PORT/);
    expect(() => loadChainWatcherConfig({ FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY: '0s' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY: must be above 0/);
  });
});
