// The systemd unit for the runner itself, hardened like every Fleetvisor unit (libs/platform
// systemd.ts). KillMode=process: on stop or restart systemd signals the
// runner's main process only and leaves the rest of the cgroup, the lavap services, alone; the
// runner (live-restore, ADR 0007) lets them run on and its next start adopts them, so a restart or
// an upgrade of the runner is no outage of the services. (KillMode=mixed or control-group would
// SIGKILL every child when the runner exits, whatever the runner decides.) With
// FLEETVISOR_RUNNER_LIVE_RESTORE=false the runner stops its children itself before it exits.
// Restart=always brings the runner back after a crash; the upgrade state file makes that safe
// mid-upgrade. The children are still in the unit's cgroup: `systemctl kill` reaches them, and
// systemd logs them as left-over processes on a restart, which is what is meant.
import { renderServiceUnit } from '@fleetvisor/platform';

export { renderEnvironmentFile } from '@fleetvisor/platform';

/** Node flags for the long-running runner: it allocates little once started, so a 1 MB semi-space saves memory at no visible CPU cost (docs/benchmarks.md, "Service runner"). */
export const RUNNER_NODE_FLAGS = ['--max-semi-space-size=1'];

export interface UnitInput {
  execStart: string[];
  user: string;
  workingDirectory: string;
  /** File with FLEETVISOR_* settings (mode 0600: it may hold the NATS password). */
  environmentFile: string;
  stopGraceMs: number;
  /** Directories the supervised services write besides the runner home (their own homes, e.g. ~/.lava). */
  readWritePaths?: readonly string[];
}

export function renderSystemdUnit(u: UnitInput): string {
  return renderServiceUnit({
    description: 'Fleetvisor service runner (supervises lavap services, upgrades on VersionChanged)',
    execStart: u.execStart,
    user: u.user,
    workingDirectory: u.workingDirectory,
    environmentFile: u.environmentFile,
    killMode: 'process',
    stopTimeoutSec: Math.ceil(u.stopGraceMs / 1000) + 15,
    // The runner home holds binaries, logs and state; it may sit under /home (read-only there
    // except for the paths below).
    readWritePaths: [u.workingDirectory, ...(u.readWritePaths ?? [])],
    protectHome: 'read-only',
    // lavap (Go) lists interfaces over netlink.
    extraAddressFamilies: ['AF_NETLINK'],
  });
}
