import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadFilecoinWatchConfig } from './proving-config';

describe('proving watch configuration', () => {
  it('is absent without Filecoin chains, and reads chains, endpoints and miners', () => {
    expect(loadFilecoinWatchConfig({})).toBeUndefined();
    expect(
      loadFilecoinWatchConfig({
        FLEETVISOR_FILECOIN_CHAINS: 'calibnet=http://a:1234/rpc/v1,http://b:1234/rpc/v1; mainnet=https://c/rpc/v1',
        FLEETVISOR_FILECOIN_MINERS: 'calibnet:t01000, mainnet:f02000',
        FLEETVISOR_FILECOIN_POLL_INTERVAL: '500ms',
      }),
    ).toEqual({
      chains: [
        { name: 'calibnet', endpoints: ['http://a:1234/rpc/v1', 'http://b:1234/rpc/v1'], miners: ['t01000'] },
        { name: 'mainnet', endpoints: ['https://c/rpc/v1'], miners: ['f02000'] },
      ],
      pollIntervalMs: 500,
      notify: true,
      notifyStallMs: 90_000,
      notifyRetryMaxMs: 5_000,
    });
    const ws = loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=wss://a/rpc/v1', FLEETVISOR_FILECOIN_MINERS: 'f01000', FLEETVISOR_FILECOIN_NOTIFY: 'off', FLEETVISOR_FILECOIN_NOTIFY_STALL: '3s' });
    expect(ws).toMatchObject({ chains: [{ endpoints: ['wss://a/rpc/v1'] }], notify: false, notifyStallMs: 3_000 });
    expect(loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=http://a/rpc/v1', FLEETVISOR_FILECOIN_MINERS: 'f01000,f01001' })?.chains[0]!.miners).toEqual(['f01000', 'f01001']);
  });

  it('reads the node token from FLEETVISOR_FILECOIN_TOKEN or its _FILE, kept secret wherever the config is shown', () => {
    const base = { FLEETVISOR_FILECOIN_CHAINS: 'n=http://a/rpc/v1', FLEETVISOR_FILECOIN_MINERS: 'f01000' };
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJBbGxvdyI6WyJyZWFkIl19.c2ln';
    const direct = loadFilecoinWatchConfig({ ...base, FLEETVISOR_FILECOIN_TOKEN: token })!;
    expect(direct.token?.secret.reveal()).toBe(token);
    expect(direct.token?.variable).toBe('FLEETVISOR_FILECOIN_TOKEN');
    expect(JSON.stringify(direct) + inspect(direct, { depth: 5 }) + String(direct.token?.secret)).not.toContain(token);
    const dir = mkdtempSync(join(tmpdir(), 'fv-token-'));
    writeFileSync(join(dir, 'token'), `${token}\n`);
    const fromFile = loadFilecoinWatchConfig({ ...base, FLEETVISOR_FILECOIN_TOKEN_FILE: join(dir, 'token') })!;
    expect(fromFile.token?.secret.reveal()).toBe(token);
    expect(fromFile.token?.variable).toBe('FLEETVISOR_FILECOIN_TOKEN_FILE');
    expect(loadFilecoinWatchConfig(base)!.token).toBeUndefined();
    // A pasted `lotus auth api-info` value, or both settings at once: refused, the token not echoed.
    const pasted = () => loadFilecoinWatchConfig({ ...base, FLEETVISOR_FILECOIN_TOKEN: `FULLNODE_API_INFO=${token}:/ip4/127.0.0.1/tcp/1234/http` });
    expect(pasted).toThrow(/FLEETVISOR_FILECOIN_TOKEN.*the token alone/);
    expect(() => pasted()).not.toThrow(new RegExp(token.slice(0, 20)));
    expect(() => loadFilecoinWatchConfig({ ...base, FLEETVISOR_FILECOIN_TOKEN: token, FLEETVISOR_FILECOIN_TOKEN_FILE: join(dir, 'token') })).toThrow(/FLEETVISOR_FILECOIN_TOKEN_FILE.*only one/);
  });

  it('names the variable and the faulty part', () => {
    expect(() => loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_MINERS: 'f01000' })).toThrow(/FLEETVISOR_FILECOIN_MINERS.*no chain/);
    expect(() => loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=http://a' })).toThrow(/FLEETVISOR_FILECOIN_MINERS.*required/);
    expect(() => loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=ftp://a', FLEETVISOR_FILECOIN_MINERS: 'f01000' })).toThrow(/http\(s\):\/\/ or ws\(s\)/);
    expect(() => loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=http://a', FLEETVISOR_FILECOIN_MINERS: 'f01000', FLEETVISOR_FILECOIN_NOTIFY: 'maybe' })).toThrow(/FLEETVISOR_FILECOIN_NOTIFY.*on or off/);
    expect(() => loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=http://u:p@a', FLEETVISOR_FILECOIN_MINERS: 'f01000' })).toThrow(/credentials/);
    expect(() => loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=http://a', FLEETVISOR_FILECOIN_MINERS: 'f1abc' })).toThrow(/not a miner ID/);
    expect(() => loadFilecoinWatchConfig({ FLEETVISOR_FILECOIN_CHAINS: 'n=http://a', FLEETVISOR_FILECOIN_MINERS: 'other:f01000' })).toThrow(/names a chain not in/);
  });
});
