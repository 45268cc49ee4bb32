// The systemd unit for the runner itself. KillMode=process: on stop or restart systemd signals the
// runner's main process only and leaves the rest of the cgroup, the lavap services, alone; the
// runner (live-restore, ADR 0007) lets them run on and its next start adopts them, so a restart or
// an upgrade of the runner is no outage of the services. (KillMode=mixed or control-group would
// SIGKILL every child when the runner exits, whatever the runner decides.) With
// FLEETVISOR_RUNNER_LIVE_RESTORE=false the runner stops its children itself before it exits.
// Restart=always brings the runner back after a crash; the upgrade state file makes that safe
// mid-upgrade. The children are still in the unit's cgroup: `systemctl kill` reaches them, and
// systemd logs them as left-over processes on a restart, which is what is meant.
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
    'KillMode=process',
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
