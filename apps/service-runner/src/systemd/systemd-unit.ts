// The systemd unit for the runner itself. KillMode=mixed: systemd sends SIGTERM to the runner only,
// the runner stops its children (SIGTERM, SIGKILL after its grace), and systemd SIGKILLs whatever
// is left after TimeoutStopSec. Restart=always brings the runner back after a crash; the upgrade
// state file makes that safe mid-upgrade.
/** Node flags for the long-running runner: it allocates little once started, so a 1 MB semi-space saves memory at no visible CPU cost (docs/benchmarks.md, "Service runner"). */
export const RUNNER_NODE_FLAGS = ['--max-semi-space-size=1'];

export interface UnitInput {
  execStart: string[];
  user?: string;
  workingDirectory: string;
  /** File with FLEETVISOR_* settings (mode 0600: the database URL may hold a password). */
  environmentFile: string;
  stopGraceMs: number;
}

function quote(arg: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

export function renderSystemdUnit(u: UnitInput): string {
  for (const a of u.execStart) if (/[\n\r]/.test(a)) throw new Error('a line break in ExecStart');
  return [
    '[Unit]',
    'Description=Fleetvisor service runner (supervises lavap services, upgrades on VersionChanged)',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    ...(u.user ? [`User=${u.user}`] : []),
    `WorkingDirectory=${quote(u.workingDirectory)}`,
    `ExecStart=${u.execStart.map(quote).join(' ')}`,
    `EnvironmentFile=${quote(u.environmentFile)}`,
    'Restart=always',
    'RestartSec=5',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStopSec=${Math.ceil(u.stopGraceMs / 1000) + 15}`,
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** KEY=value lines for an EnvironmentFile (values quoted; no line breaks allowed). */
export function renderEnvironmentFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k) || /[\n\r]/.test(v)) throw new Error(`cannot put ${k} in an environment file`);
      return `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    })
    .join('\n') + '\n';
}
