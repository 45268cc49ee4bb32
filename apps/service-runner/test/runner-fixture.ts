// Test/bench fixture: a runner home with fake lavap binaries installed, services created from
// generated configs, and a RunnerConfig tuned for fast tests. No test framework imports here.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CoreConfig } from '@fleetvisor/platform';
import type { RunnerConfig, RunnerTuning } from '../src/config';
import { createService } from '../src/home/create-service';
import { RunnerHome, type HomeConfig } from '../src/home/runner-home';
import { EventRecorder } from '../src/events/event-recorder';
import { EventSpool } from '../src/events/event-spool';
import { BinaryStore } from '../src/upgrades/binary-store';
import { consumerConfigYaml, providerConfigYaml, writeFakeLavap, type FakeLavapBehaviour } from '@fleetvisor/devnet';
import { testTrustConfig } from '@fleetvisor/testing';

export const FAST_TUNING: RunnerTuning = {
  stopGraceMs: 2_000,
  restartInitialMs: 100,
  restartMaxMs: 1_000,
  healthyAfterMs: 2_000,
  crashLoopCrashes: 3,
  crashWindowMs: 10_000,
  healthStableMs: 400,
  healthTimeoutMs: 2_000,
  upgradeParallelism: 1,
  logMaxBytes: 1024 * 1024,
  logFiles: 2,
  verifyRetryInitialMs: 100,
  verifyRetryMaxMs: 500,
  heartbeatIntervalMs: 0,
  rollout: 'independent',
  rolloutRetryMaxMs: 500,
};

export interface FixtureService {
  role: 'provider' | 'consumer';
  from: string;
  chainLabel: string;
  port: number;
  keyringBackend?: string;
}

export class RunnerFixture {
  readonly dir: string;
  readonly home: RunnerHome;

  constructor(
    readonly core: CoreConfig,
    readonly chainId: string,
    prefix = 'fv-runner-',
    /** The trust root(s) the runner verifies chain events with (tests pass the test trust's root). */
    readonly trustRoots: string[] = [],
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), prefix));
    this.home = new RunnerHome(this.dir);
    this.home.ensureLayout();
  }

  /**
   * Live-restore is off by default here: a test that closes its in-process runner means "tear it
   * down", children included (a test of live-restore passes `{ liveRestore: true }`).
   */
  config(tuning: Partial<RunnerTuning> = {}, extra: Partial<RunnerConfig> = {}): RunnerConfig {
    return { core: this.core, directory: this.dir, tuning: { ...FAST_TUNING, ...tuning }, secretsPassphrase: undefined, secretsKeyFile: undefined, platform: 'linux/amd64', childEnvironment: { PATH: '/usr/local/bin:/usr/bin:/bin' }, connectionSettings: {}, upStateDir: path.join(this.dir, 'up-state'), trust: { roots: this.trustRoots.length > 0 ? this.trustRoots : testTrustConfig().roots }, chainRpc: undefined, liveRestore: false, ...extra };
  }

  writeHomeConfig(c: Partial<HomeConfig> = {}): void {
    const prior = this.home.exists() ? this.home.readConfig() : undefined;
    this.home.writeConfig({ chainId: this.chainId, binary: 'lavap', autoDownload: false, download: {}, upgrade: {}, services: prior?.services ?? [], ...c });
  }

  install(version: string, behaviour: FakeLavapBehaviour = 'ok', passwordSha256?: string): string {
    return writeFakeLavap(this.home.versionDir(version), { version, behaviour, ...(passwordSha256 ? { passwordSha256 } : {}) });
  }

  setCurrent(version: string): void {
    new BinaryStore(this.home).switchLink(this.home.currentLink('lavap'), version, 'lavap');
  }

  addService(s: FixtureService): string {
    const cfg = path.join(this.dir, `${s.from}-${s.chainLabel}.yml`);
    const addr = `127.0.0.1:${s.port}`;
    writeFileSync(cfg, s.role === 'provider' ? providerConfigYaml(s.chainLabel, addr) : consumerConfigYaml(s.chainLabel, addr));
    const recorder = new EventRecorder(new EventSpool(this.home.spoolDir), this.core.host, 'test');
    return createService(this.home, new BinaryStore(this.home), recorder, {
      role: s.role,
      configFile: cfg,
      from: s.from,
      geolocation: '1',
      keyringBackend: s.keyringBackend ?? 'test',
      chainId: this.chainId,
    }).name;
  }

  /** Kills every process whose command line names a path under this fixture (what a failed test left running). */
  killLeftovers(): void {
    const root = this.dir + path.sep;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      let args: string[];
      try {
        args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      } catch {
        continue;
      }
      if (!args.some((a) => a.startsWith(root))) continue;
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
