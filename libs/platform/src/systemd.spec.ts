import { describe, expect, it } from 'vitest';
import { renderEnvironmentFile, renderServiceUnit, type SystemdServiceUnit } from './systemd';

const base: SystemdServiceUnit = {
  description: 'Fleetvisor test',
  execStart: ['/usr/bin/node', '/opt/fleetvisor/bin/fleetvisor.js', 'chain-watcher', 'run'],
  user: 'fleetvisor',
  workingDirectory: '/var/lib/fleetvisor/x',
  environmentFile: '/etc/fleetvisor/x.env',
  killMode: 'mixed',
  stopTimeoutSec: 30,
  protectHome: 'yes',
};

describe('renderServiceUnit', () => {
  it('runs the program as the dedicated user in the sandbox, with the settings from the environment file', () => {
    const unit = renderServiceUnit({ ...base, readWritePaths: ['/srv/lava home'], stateDirectory: 'fleetvisor/x', extraAddressFamilies: ['AF_NETLINK'] });
    const lines = unit.split('\n');
    expect(lines).toContain('ExecStart=/usr/bin/node /opt/fleetvisor/bin/fleetvisor.js chain-watcher run');
    expect(lines).toContain('User=fleetvisor');
    expect(lines).toContain('EnvironmentFile=/etc/fleetvisor/x.env');
    expect(lines).toContain('ReadWritePaths="/srv/lava home"');
    expect(lines).toContain('StateDirectory=fleetvisor/x');
    expect(lines).toContain('RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK');
    for (const hardening of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'CapabilityBoundingSet=', 'KillMode=mixed']) expect(lines).toContain(hardening);
    // V8's JIT writes code pages: the option would crash node.
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute=/m);
  });

  it('keeps only the runner itself in a stop when asked (its children outlive it)', () => {
    expect(renderServiceUnit({ ...base, killMode: 'process' }).split('\n')).toContain('KillMode=process');
  });

  it('escapes % and quotes in arguments, and refuses what would break the unit', () => {
    expect(renderServiceUnit({ ...base, execStart: ['/usr/bin/node', '--x=50%', 'a"b'] })).toContain('ExecStart=/usr/bin/node "--x=50%%" "a\\"b"');
    expect(() => renderServiceUnit({ ...base, execStart: ['/usr/bin/node', 'a\nExecStartPre=/bin/rm'] })).toThrow(/line break in ExecStart/);
    expect(() => renderServiceUnit({ ...base, execStart: ['node', 'x'] })).toThrow(/absolute program path/);
    expect(() => renderServiceUnit({ ...base, user: 'root' })).toThrow(/never runs as root/);
    expect(() => renderServiceUnit({ ...base, user: 'a b' })).toThrow(/not a valid user name/);
    expect(() => renderServiceUnit({ ...base, description: 'x\n[Service]' })).toThrow(/line break in Description/);
  });
});

describe('renderEnvironmentFile', () => {
  it('quotes values and refuses names or values that would inject lines', () => {
    expect(renderEnvironmentFile({ FLEETVISOR_NATS_PASSWORD: 'p"w\\x' })).toBe('FLEETVISOR_NATS_PASSWORD="p\\"w\\\\x"\n');
    expect(() => renderEnvironmentFile({ 'BAD NAME': 'x' })).toThrow(/cannot put/);
    expect(() => renderEnvironmentFile({ OK: 'x\nFLEETVISOR_EVIL=1' })).toThrow(/cannot put OK/);
  });
});
