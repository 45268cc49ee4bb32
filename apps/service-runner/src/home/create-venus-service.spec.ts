// `create-service venus-wallet|damocles-manager|venus-sealer`: the definition as an operator would
// write it (read back by the same parser), the checks made before anything is written, idempotence,
// and what an operator added by hand kept across a re-create.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventRecorder } from '../events/event-recorder';
import { EventSpool } from '../events/event-spool';
import { createVenusService } from './create-venus-service';
import { RunnerHome } from './runner-home';

let dir: string;
let home: RunnerHome;
let spool: EventSpool;
let recorder: EventRecorder;
let bin: string;
let walletConfig: string;
let token: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fv-venus-create-'));
  home = new RunnerHome(dir);
  home.ensureLayout();
  home.writeConfig({ chainId: 'lava-testnet-2', binary: 'lavap', autoDownload: false, download: {}, upgrade: {}, services: [] });
  spool = new EventSpool(home.spoolDir);
  recorder = new EventRecorder(spool, 'host-v');
  bin = path.join(dir, 'venus-wallet');
  writeFileSync(bin, '#!/bin/sh\n', { mode: 0o755 });
  walletConfig = path.join(dir, 'config.toml');
  writeFileSync(walletConfig, '[API]\nListenAddress = "/ip4/127.0.0.1/tcp/5678/http"\n');
  token = path.join(dir, 'wallet.token');
  writeFileSync(token, 'eyJ.admin.token:/ip4/127.0.0.1/tcp/5678/http\n', { mode: 0o600 });
});

const recorded = () => spool.pending().map((s) => ({ type: s.event.type, data: s.event.data }));

describe('create-service for venus components', () => {
  it('venus-wallet: a wrapped service of its kind with the admin token, listed in config.yml, ServiceCreated once', () => {
    const input = { kind: 'venus-wallet' as const, cmd: `${bin} --repo ${dir}/repo run`, configFile: walletConfig, tokenFile: token, probeEvery: '10s' };
    const made = createVenusService(home, recorder, input);
    expect(made).toMatchObject({ name: 'venus-wallet', outcome: 'created' });
    expect(home.readService('venus-wallet')).toEqual({
      name: 'venus-wallet',
      role: 'wrapped',
      kind: 'venus-wallet',
      binary: 'venus-wallet',
      command: bin,
      configPath: walletConfig,
      args: ['--repo', `${dir}/repo`, 'run'],
      keyringPassword: true,
      passwordVia: 'json-rpc',
      probe: { type: 'json-rpc', address: '127.0.0.1:5678', path: '/rpc/v0', method: 'Filecoin.Version', tokenFile: token, everyMs: 10_000 },
    });
    expect(home.readConfig().services).toEqual(['venus-wallet']);
    expect(recorded()).toEqual([{ type: 'ServiceCreated', data: { host: 'host-v', service: 'venus-wallet', role: 'wrapped', binary: 'venus-wallet', configPath: walletConfig } }]);

    // The same again changes nothing; a hand-added env and attention pattern survive a changed re-create.
    expect(createVenusService(home, recorder, input).outcome).toBe('unchanged');
    expect(recorded()).toHaveLength(1);
    const file = home.serviceFile('venus-wallet');
    writeFileSync(file, `${readFileSync(file, 'utf8')}env: { GOLOG_LOG_LEVEL: info }\nattention:\n  - { id: disk, pattern: "no space left", problem: disk full, remedy: free space }\n`);
    const changed = createVenusService(home, recorder, { ...input, probeAddress: '127.0.0.1:5679' });
    expect(changed.outcome).toBe('updated');
    expect(home.readService('venus-wallet')).toMatchObject({ env: { GOLOG_LOG_LEVEL: 'info' }, attention: [{ id: 'disk' }], probe: { address: '127.0.0.1:5679' } });
    expect(recorded()).toHaveLength(2);
  });

  it('damocles-manager: its default probe (Venus.Version on :1789, no token), named by --name', () => {
    const made = createVenusService(home, recorder, { kind: 'damocles-manager', name: 'dm-1', cmd: `${bin} daemon run`, configFile: walletConfig });
    expect(made.definition).toMatchObject({ name: 'dm-1', kind: 'damocles-manager', keyringPassword: false, probe: { type: 'json-rpc', address: '127.0.0.1:1789', method: 'Venus.Version' } });
    expect(made.definition.probe).not.toHaveProperty('tokenFile');
  });

  it('refuses, writing nothing, what would not run or would leak: each reason named', () => {
    const base = { kind: 'venus-wallet' as const, cmd: `${bin} run`, configFile: walletConfig, tokenFile: token };
    const cases: [Partial<typeof base> & Record<string, unknown>, RegExp][] = [
      [{ cmd: 'venus-wallet run' }, /absolute path/],
      [{ cmd: `${dir}/nothing run` }, /is not a file/],
      [{ cmd: `${bin} run --password hunter2` }, /must not carry a password/],
      [{ configFile: `${dir}/missing.toml` }, /--config: .* does not exist/],
      [{ tokenFile: undefined }, /venus-wallet needs --token-file/],
      [{ tokenFile: 'wallet.token' }, /--token-file must be an absolute path/],
      [{ name: 'bad name!' }, /name/],
      [{ probeAddress: 'nohost' } as never, /probe.address must be host:port/],
    ];
    for (const [change, why] of cases) {
      const input = { ...base, ...change } as Parameters<typeof createVenusService>[2];
      if (change.tokenFile === undefined && 'tokenFile' in change) delete (input as { tokenFile?: string }).tokenFile;
      expect(() => createVenusService(home, recorder, input), JSON.stringify(change)).toThrow(why);
    }
    chmodSync(token, 0o644);
    expect(() => createVenusService(home, recorder, base)).toThrow(/readable by others: chmod 600/);
    expect(home.readConfig().services).toEqual([]);
    expect(recorded()).toEqual([]);
  });
});
