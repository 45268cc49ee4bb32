import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testTrust } from '@fleetvisor/testing';
import { generateKeyPair, newKeyFile, writeKeyFile } from '@fleetvisor/trust';
import { loadChainWatcherConfig, parseChains } from './config';

const keys = testTrust().env('chain-watcher');

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
    const c = loadChainWatcherConfig({ ...keys, FLEETVISOR_CHAINS: 'x=http://a' });
    expect(c).toMatchObject({ pollIntervalMs: 1_000, safetyNetBlocks: 10, httpPort: 9471, leaderRetryMs: 1_000, relay: true, maxGapScan: 5_000, backfillRps: 50 });
    expect(loadChainWatcherConfig({ ...keys, FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_BACKFILL_RPS: '5' }).backfillRps).toBe(5);
    expect(() => loadChainWatcherConfig({ ...keys, FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_BACKFILL_RPS: '0' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_BACKFILL_RPS: must be >= 1/);
    expect(loadChainWatcherConfig({ ...keys, FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_POLL_INTERVAL: '250ms' }).pollIntervalMs).toBe(250);
    expect(() => loadChainWatcherConfig({ ...keys, FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_SAFETY_NET_BLOCKS: '0' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_SAFETY_NET_BLOCKS: must be >= 1/);
    expect(() => loadChainWatcherConfig({ ...keys, FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: 'abc' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_HTTP_PORT/);
    expect(() => loadChainWatcherConfig({ ...keys, FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY: '0s' })).toThrow(/FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY: must be above 0/);
  });

  it('refuses to start without a usable chain-watcher key, naming FLEETVISOR_SIGNING_KEY_FILE', () => {
    const base = { FLEETVISOR_CHAINS: 'x=http://a', FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile };
    expect(loadChainWatcherConfig({ ...base, ...keys }).signer.cert.role).toBe('chain-watcher');
    expect(() => loadChainWatcherConfig(base)).toThrow(/FLEETVISOR_SIGNING_KEY_FILE: the chain-watcher signs what it sends/);
    expect(() => loadChainWatcherConfig({ ...base, FLEETVISOR_SIGNING_KEY_FILE: '/nonexistent/cw.key.json' })).toThrow(/FLEETVISOR_SIGNING_KEY_FILE: cannot read key file/);
    expect(() => loadChainWatcherConfig({ ...base, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('operate') })).toThrow(/FLEETVISOR_SIGNING_KEY_FILE: the key of test-operate has role operate/);
    // A chain-watcher key of another fleet (another root): hosts of this one would refuse what it signs.
    const otherRoot = generateKeyPair();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fv-cw-key-'));
    const file = path.join(dir, 'cw.key.json');
    writeKeyFile(file, newKeyFile(otherRoot, generateKeyPair(), 'stranger', 'chain-watcher'));
    try {
      expect(() => loadChainWatcherConfig({ ...base, FLEETVISOR_SIGNING_KEY_FILE: file })).toThrow(/FLEETVISOR_SIGNING_KEY_FILE: hosts would refuse what this key signs: .*not a trusted root/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
