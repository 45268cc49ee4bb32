// Venus components in services/<name>.yml: kind, command, probe (defaults from upstream listen
// addresses), attention patterns, how the password is delivered.
import { describe, expect, it } from 'vitest';
import { HomeError, parseServiceDefinition, serializeServiceDefinition } from './runner-home';

const base = (extra: string[]): string =>
  ['name: wallet-1', 'role: wrapped', 'kind: venus-wallet', 'binary: venus-wallet', 'command: /usr/local/bin/venus-wallet', 'config: /home/u/.venus_wallet/config.toml', 'args: [run]', ...extra, ''].join('\n');

describe('venus service definitions', () => {
  it("venus-wallet: JSON-RPC probe of Filecoin.Version on its default 127.0.0.1:5678/rpc/v0, a password delivered through its API (needs the admin token's file)", () => {
    const d = parseServiceDefinition(base(['probe:', '  token-file: /etc/fleetvisor/wallet.token']), 'wallet-1.yml');
    expect(d).toMatchObject({
      kind: 'venus-wallet',
      command: '/usr/local/bin/venus-wallet',
      keyringPassword: true,
      passwordVia: 'json-rpc',
      probe: { type: 'json-rpc', address: '127.0.0.1:5678', path: '/rpc/v0', method: 'Filecoin.Version', tokenFile: '/etc/fleetvisor/wallet.token', everyMs: 10_000 },
    });
    expect(parseServiceDefinition(serializeServiceDefinition(d), 'wallet-1.yml')).toEqual(d);
    // Without the token file the runner could not call Filecoin.Unlock (perm admin): refused at once.
    expect(() => parseServiceDefinition(base([]), 'wallet-1.yml')).toThrow(/password-via json-rpc needs a json-rpc probe with a token-file/);
    // An operator who feeds it otherwise turns the delivery off.
    expect(parseServiceDefinition(base(['keyring-password: false']), 'wallet-1.yml')).toMatchObject({ keyringPassword: false, probe: { method: 'Filecoin.Version' } });
  });

  it('damocles-manager: Venus.Version on :1789 (no token); probe none turns it off; a generic http or tcp probe is taken', () => {
    const dm = (extra: string[]) =>
      ['name: dm-1', 'role: wrapped', 'kind: damocles-manager', 'binary: damocles-manager', 'command: /opt/damocles-manager', 'config: /home/u/.damocles-manager/sector-manager.cfg', 'args: [daemon, run]', ...extra, ''].join('\n');
    expect(parseServiceDefinition(dm([]), 'dm-1.yml')).toMatchObject({ keyringPassword: false, probe: { type: 'json-rpc', address: '127.0.0.1:1789', method: 'Venus.Version' } });
    expect(parseServiceDefinition(dm(['probe: none']), 'dm-1.yml').probe).toBeUndefined();
    const none = parseServiceDefinition(dm(['probe: none']), 'dm-1.yml');
    expect(parseServiceDefinition(serializeServiceDefinition(none), 'dm-1.yml')).toEqual(none);
    expect(parseServiceDefinition(dm(['probe: { type: http, path: /healthcheck, every: 30s }']), 'dm-1.yml').probe).toEqual({ type: 'http', address: '127.0.0.1:1789', path: '/healthcheck', everyMs: 30_000 });
    expect(parseServiceDefinition(dm(['probe: { type: tcp, address: "10.0.0.5:1789" }']), 'dm-1.yml').probe).toEqual({ type: 'tcp', address: '10.0.0.5:1789', everyMs: 10_000 });
  });

  it('attention patterns are read (and written back) with the definition', () => {
    const d = parseServiceDefinition(
      base(['probe: { token-file: /t }', 'attention:', '  - id: disk-full', '    pattern: "no space left on device"', '    problem: the repo disk is full', '    remedy: free space under ~/.venus_wallet']),
      'wallet-1.yml',
    );
    expect(d.attention?.map((r) => [r.id, r.pattern.source])).toEqual([['disk-full', 'no space left on device']]);
    expect(parseServiceDefinition(serializeServiceDefinition(d), 'wallet-1.yml').attention?.[0]?.pattern.source).toBe('no space left on device');
  });

  it('bad settings are refused naming the file and the field', () => {
    const cases: [string[], RegExp][] = [
      [['probe: { type: udp }'], /probe.type must be tcp, http or json-rpc/],
      [['probe: { token-file: relative.token }'], /probe.token-file must be an absolute path/],
      [['probe: { token-file: /t, address: "nohost" }'], /probe.address must be host:port/],
      [['probe: { token-file: /t, method: "Version" }'], /probe.method must be a JSON-RPC method/],
      [['probe: { token-file: /t, every: 1ms }'], /probe.every must be a duration of at least 100ms/],
      [['probe: { token-file: /t, secret: x }'], /probe: unknown key secret/],
      [['probe: { token-file: /t }', 'password-via: env'], /password-via must be prompt or json-rpc/],
    ];
    for (const [extra, msg] of cases) {
      expect(() => parseServiceDefinition(base(extra), 'wallet-1.yml')).toThrow(HomeError);
      expect(() => parseServiceDefinition(base(extra), 'wallet-1.yml')).toThrow(msg);
    }
    expect(() => parseServiceDefinition(base(['probe: { token-file: /t }']).replace('kind: venus-wallet', 'kind: lotus'), 'wallet-1.yml')).toThrow(/kind must be one of lavap, venus-wallet/);
    expect(() => parseServiceDefinition(base(['probe: { token-file: /t }']).replace('role: wrapped', 'role: provider'), 'wallet-1.yml')).toThrow(/command must be an absolute path, for a service of role wrapped/);
  });
});
