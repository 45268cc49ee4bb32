// The side effects of an upgrade, as the coordinator sees them: small named interfaces, so that
// its decisions (one service at a time, health, rollback, retry, events) run in unit tests with
// fakes. The defaults here are the real ones: a child process, a hook command, a probe.
import type { DownloadSettings, RunnerHome } from '../home/runner-home';
import type { ExitInfo } from '../supervision/supervised-service';
import type { BinaryStore } from './binary-store';
import { checkHealth, type HealthCheckOptions, type HealthResult } from './health-check';
import { runPreUpgradeHook, type HookContext, type HookResult } from './pre-upgrade-hook';

/** One supervised service's process (SupervisedService): restarted on the new binary, judged, released. */
export interface ServiceProcess {
  /** Stops the current process and starts again from the link; with hold, a crash is not restarted until release(). */
  restart(opts: { hold?: boolean }): Promise<void>;
  release(): void;
  /** The exit of the current process; undefined when none runs. */
  currentExit(): Promise<ExitInfo> | undefined;
}

/** The operator's pre-upgrade hook (Cosmovisor exit codes: 0/1 go on, 30 fails, 31 retries). */
export interface PreUpgradeHook {
  run(command: string, ctx: HookContext): Promise<HookResult>;
}

/** Is a freshly started service healthy (stays up, answers its probe)? */
export interface HealthProbe {
  check(o: HealthCheckOptions): Promise<HealthResult>;
}

/** Gets a version that is not installed yet (BinaryFetcher: manifest, URL template, build). */
export interface BinarySource {
  obtain(version: string, binary: string, settings: DownloadSettings): Promise<string>;
}

/** Installed binaries and the links that select them (BinaryStore). */
export type BinaryLinks = Pick<BinaryStore, 'switchLink' | 'linkedVersion' | 'reportedVersion'>;

/** Where binaries and links live (RunnerHome). */
export type UpgradeHome = Pick<RunnerHome, 'serviceLink' | 'currentLink' | 'binaryPath' | 'installedVersions'>;

/** The hook command, run with `baseEnv` (the runner's child environment) and the hook's own variables only. */
export const commandHook = (baseEnv: Record<string, string>): PreUpgradeHook => ({ run: (command, ctx) => runPreUpgradeHook(command, ctx, { baseEnv }) });
export const processHealth: HealthProbe = { check: checkHealth };
