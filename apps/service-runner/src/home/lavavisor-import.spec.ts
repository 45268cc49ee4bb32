import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lavapLinkCandidates, linkedLavavisorVersion, parseLavavisorUnit, resolveLavavisorDir } from './lavavisor-import';

// A unit exactly as LavaVisor's create-service writes it (ecosystem/lavavisor/cmd/create-service.go),
// including the empty --node it leaves when none was given.
const UNIT = `[Unit]
  Description=provider1-LAV1 daemon
  After=network-online.target
[Service]
  WorkingDirectory=/home/u/go/bin/
  ExecStart=/home/u/go/bin/lavap rpcprovider .lavavisor/services/protocol_yml_configs/provider1-LAV1.yml --from provider1 --keyring-backend test --parallel-connections 4 --chain-id lava-testnet-2 --geolocation 1 --log_level warn --node 
  User=u
  Restart=always
[Install]
  WantedBy=multi-user.target
`;

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'fv-lv-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('parseLavavisorUnit', () => {
  it("reads LavaVisor's ExecStart: binary, role, config and every flag it writes; an empty --node is no node", () => {
    const s = parseLavavisorUnit('provider1-LAV1', '/x.service', UNIT);
    expect(s).toMatchObject({
      binaryPath: '/home/u/go/bin/lavap',
      role: 'provider',
      configArg: '.lavavisor/services/protocol_yml_configs/provider1-LAV1.yml',
      flags: { from: 'provider1', 'keyring-backend': 'test', 'parallel-connections': '4', 'chain-id': 'lava-testnet-2', geolocation: '1', log_level: 'warn' },
      unknownFlags: [],
    });
    expect(s.flags['node']).toBeUndefined();
  });

  it('keeps flags it cannot carry over as unknown, reads --k=v, and refuses a unit that runs something else', () => {
    const s = parseLavavisorUnit('c', '/c.service', 'ExecStart=/usr/bin/lavap rpcconsumer /etc/c.yml --from=c1 --geolocation 2 --keyring-backend os --cache-be 127.0.0.1:7777 --node http://n:26657\n');
    expect(s).toMatchObject({ role: 'consumer', configArg: '/etc/c.yml', flags: { from: 'c1', geolocation: '2', 'keyring-backend': 'os', node: 'http://n:26657' }, unknownFlags: ['--cache-be 127.0.0.1:7777'] });
    expect(() => parseLavavisorUnit('x', '/x', 'ExecStart=/usr/bin/lavad start\n')).toThrow(/not rpcprovider or rpcconsumer/);
    expect(() => parseLavavisorUnit('x', '/x', '[Service]\nUser=u\n')).toThrow(/no ExecStart/);
  });
});

describe('resolveLavavisorDir', () => {
  it("takes a .lavavisor folder itself, or the folder that holds one (LavaVisor's --directory)", () => {
    const parent = tmp();
    const lv = path.join(parent, '.lavavisor');
    mkdirSync(path.join(lv, 'upgrades'), { recursive: true });
    expect(resolveLavavisorDir(lv)).toBe(lv);
    expect(resolveLavavisorDir(parent)).toBe(lv);
    expect(resolveLavavisorDir('~/.lavavisor', parent)).toBe(lv);
  });

  it('refuses a folder that does not exist or is no LavaVisor home, saying which', () => {
    const d = tmp();
    expect(() => resolveLavavisorDir(path.join(d, 'nope'))).toThrow(/no LavaVisor home at .*nope/);
    expect(() => resolveLavavisorDir(d)).toThrow(/is not a LavaVisor home: it has no config.yml, upgrades\/ or services\//);
  });
});

describe('the current version', () => {
  it("is where LavaVisor's lavap link points under upgrades/, relative or absolute; anything else is no version", () => {
    const d = tmp();
    const lv = path.join(d, '.lavavisor');
    mkdirSync(path.join(lv, 'upgrades', 'v0.2.0'), { recursive: true });
    writeFileSync(path.join(lv, 'upgrades', 'v0.2.0', 'lavap'), '');
    mkdirSync(path.join(d, 'bin'));
    symlinkSync(path.join(lv, 'upgrades', 'v0.2.0', 'lavap'), path.join(d, 'bin', 'lavap'));
    symlinkSync('../.lavavisor/upgrades/v0.2.0/lavap', path.join(d, 'bin', 'rel'));
    symlinkSync('/usr/bin/true', path.join(d, 'bin', 'other'));
    writeFileSync(path.join(d, 'bin', 'plain'), '');
    expect(linkedLavavisorVersion(path.join(d, 'bin', 'lavap'), lv)).toBe('0.2.0');
    expect(linkedLavavisorVersion(path.join(d, 'bin', 'rel'), lv)).toBe('0.2.0');
    expect(linkedLavavisorVersion(path.join(d, 'bin', 'other'), lv)).toBeUndefined();
    expect(linkedLavavisorVersion(path.join(d, 'bin', 'plain'), lv)).toBeUndefined();
    expect(linkedLavavisorVersion(path.join(d, 'bin', 'missing'), lv)).toBeUndefined();
  });

  it('looks for the link where LavaVisor puts it: what the services run, PATH, $GOPATH/bin, ~/go/bin', () => {
    const s = parseLavavisorUnit('p', '/p.service', UNIT);
    expect(lavapLinkCandidates([s], { PATH: '/a:/b', GOPATH: '/gp' }, '/home/u')).toEqual(['/home/u/go/bin/lavap', '/a/lavap', '/b/lavap', '/gp/bin/lavap']);
  });
});
