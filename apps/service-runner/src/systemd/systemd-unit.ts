// The systemd unit for the runner itself, rendered with the same hardening as every Fleetvisor unit
// (libs/platform systemd.ts). KillMode=mixed: systemd sends SIGTERM to the runner only, the runner
// stops its children (SIGTERM, SIGKILL after its grace), and systemd SIGKILLs whatever is left after
// TimeoutStopSec. Restart=always brings the runner back after a crash; the upgrade state file makes
// that safe mid-upgrade.
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
    killMode: 'mixed',
    stopTimeoutSec: Math.ceil(u.stopGraceMs / 1000) + 15,
    // The runner home holds binaries, logs and state; it may sit under /home (read-only there
    // except for the paths below).
    readWritePaths: [u.workingDirectory, ...(u.readWritePaths ?? [])],
    protectHome: 'read-only',
    // lavap (Go) lists interfaces over netlink.
    extraAddressFamilies: ['AF_NETLINK'],
  });
}
