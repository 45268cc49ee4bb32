// systemd units for Fleetvisor's processes, hardened the same way for every service. The sandbox is
// what `systemd-analyze security` scores; docs/deployment.md states the level each unit reaches.

export interface SystemdServiceUnit {
  description: string;
  /** The program and its arguments (absolute program path). */
  execStart: readonly string[];
  /** A dedicated system user (created by the operator; the unit never runs as root). */
  user: string;
  workingDirectory: string;
  /** FLEETVISOR_* settings, mode 0600: credentials never appear in the unit itself. */
  environmentFile: string;
  /**
   * mixed: SIGTERM to the main process, then SIGKILL to whatever is left (a service with no children
   * of its own). process: only the main process is signalled and killed, so the runner's supervised
   * services outlive a restart or an upgrade of the runner (its live-restore adopts them).
   */
  killMode: 'mixed' | 'process';
  stopTimeoutSec: number;
  /** Directories the service writes; everything else is read-only (ProtectSystem=strict). */
  readWritePaths?: readonly string[];
  /** StateDirectory= under /var/lib, created by systemd and owned by the user. */
  stateDirectory?: string;
  /** yes: /home, /root and /run/user are invisible; read-only: visible (a runner home under /home). */
  protectHome: 'yes' | 'read-only';
  /** Extra socket families (the runner's children may enumerate interfaces over netlink). */
  extraAddressFamilies?: readonly string[];
}

function quote(arg: string): string {
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

function checkLine(what: string, value: string): string {
  if (/[\n\r]/.test(value)) throw new Error(`a line break in ${what}`);
  return value;
}

export function renderServiceUnit(u: SystemdServiceUnit): string {
  for (const a of u.execStart) checkLine('ExecStart', a);
  if (!u.execStart[0]?.startsWith('/')) throw new Error('ExecStart needs an absolute program path');
  if (!/^[a-z_][a-z0-9_-]*$/.test(u.user)) throw new Error(`"${u.user}" is not a valid user name`);
  if (u.user === 'root') throw new Error('a Fleetvisor service never runs as root: give it a dedicated user');
  const families = ['AF_UNIX', 'AF_INET', 'AF_INET6', ...(u.extraAddressFamilies ?? [])];
  return [
    '[Unit]',
    `Description=${checkLine('Description', u.description)}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${u.user}`,
    `Group=${u.user}`,
    `WorkingDirectory=${quote(checkLine('WorkingDirectory', u.workingDirectory))}`,
    `ExecStart=${u.execStart.map(quote).join(' ')}`,
    `EnvironmentFile=${quote(checkLine('EnvironmentFile', u.environmentFile))}`,
    'Restart=always',
    'RestartSec=5',
    `KillMode=${u.killMode}`,
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${Math.max(1, Math.ceil(u.stopTimeoutSec))}`,
    'LimitNOFILE=65536',
    ...(u.stateDirectory ? [`StateDirectory=${checkLine('StateDirectory', u.stateDirectory)}`, 'StateDirectoryMode=0700'] : []),
    '',
    '# Sandbox: no new privileges, a read-only system, no devices, kernel knobs or capabilities.',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ProtectHome=${u.protectHome}`,
    ...(u.readWritePaths ?? []).map((p) => `ReadWritePaths=${quote(checkLine('ReadWritePaths', p))}`),
    'PrivateTmp=yes',
    'PrivateMounts=yes',
    'PrivateDevices=yes',
    'PrivateUsers=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    `RestrictAddressFamilies=${families.join(' ')}`,
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'RemoveIPC=yes',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallFilter=~@privileged @resources',
    // A call outside the filter fails with EPERM instead of killing the process.
    'SystemCallErrorNumber=EPERM',
    // MemoryDenyWriteExecute is left out on purpose: V8's JIT needs writable, executable pages.
    'UMask=0077',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** KEY=value lines for an EnvironmentFile (values quoted; no line breaks allowed). */
export function renderEnvironmentFile(env: Record<string, string>): string {
  return (
    Object.entries(env)
      .map(([k, v]) => {
        if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || /[\n\r]/.test(v)) throw new Error(`cannot put ${k} in an environment file`);
        return `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
      })
      .join('\n') + '\n'
  );
}
