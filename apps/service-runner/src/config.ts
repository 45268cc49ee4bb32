// The service-runner's settings, read once from the environment and validated. Everything the
// runner does on disk lives under the home (`<directory>/.fleetvisor`); the bus comes from the
// shared settings (FLEETVISOR_NATS_URL, ...). A host holds no database credentials (ADR 0006): its
// events reach the log through the central event intake, so FLEETVISOR_DATABASE_* is never read.
import { homedir } from 'node:os';
import { ConfigError, envReader, readBusConfig, readUpStateDir, type BusConfig, type Env } from '@fleetvisor/platform';
import { readTrustConfig, type TrustConfig } from '@fleetvisor/trust';

export interface RunnerTuning {
  /** SIGTERM → SIGKILL grace when stopping a child. */
  stopGraceMs: number;
  /** First restart delay after a crash; doubles up to restartMaxMs. */
  restartInitialMs: number;
  restartMaxMs: number;
  /** A run that lasted this long resets the backoff (the child was healthy). */
  healthyAfterMs: number;
  /** Crashes within crashWindowMs that make a crash loop. */
  crashLoopCrashes: number;
  crashWindowMs: number;
  /** After an upgrade restart, the child must stay up this long to count as healthy. */
  healthStableMs: number;
  /** How long a TCP/HTTP probe may keep failing after start before the upgrade is failed. */
  healthTimeoutMs: number;
  /** Services restarted at once during an upgrade (1 = rolling). */
  upgradeParallelism: number;
  /** Per-service log file size before it is rotated, and rotated files kept. */
  logMaxBytes: number;
  logFiles: number;
  /** Backoff of the own-node confirmation of a held chain event (first wait, longest wait). */
  verifyRetryInitialMs: number;
  verifyRetryMaxMs: number;
  /** How often the runner tells the worker-registry its host is alive (HostHeartbeat; 0 = never). */
  heartbeatIntervalMs: number;
  /**
   * Fleet-wide rollout (ADR 0009): `coordinated` asks the chain-watcher for admission before each
   * upgrade and never upgrades unadmitted; `independent` (default) upgrades on VersionChanged alone.
   */
  rollout: 'independent' | 'coordinated';
  /** Longest wait between two admission requests (they start at 1 s and double). */
  rolloutRetryMaxMs: number;
}

export interface RunnerConfig {
  /** The bus and logging settings: no database (the runner never reads FLEETVISOR_DATABASE_*). */
  core: BusConfig;
  /** Folder that holds `.fleetvisor` (lavavisor's --directory; default the user's home). */
  directory: string;
  tuning: RunnerTuning;
  /** Passphrase for the secrets file (FLEETVISOR_SECRETS_PASSPHRASE); never logged. */
  secretsPassphrase: string | undefined;
  /** Key file for the secrets file, instead of a passphrase (FLEETVISOR_SECRETS_KEY_FILE). */
  secretsKeyFile: string | undefined;
  /** Platform key for release manifests (linux/amd64...). */
  platform: string;
  /**
   * What every child (service, pre-upgrade hook, build command) gets of the runner's own
   * environment: PATH, HOME, and LANG / TZ when set. Never a FLEETVISOR_* setting: a child that
   * could read the database URL or the secrets passphrase could decrypt the keyring password.
   */
  childEnvironment: Record<string, string>;
  /**
   * How this runner reaches the bus, as the operator set it (FLEETVISOR_NATS_*: URL, user, secrets or
   * the files holding them, TLS files): what the unit of `install-systemd` must give the runner it
   * starts, in its 0600 environment file. Never a database setting: a host has none.
   */
  connectionSettings: Record<string, string>;
  /**
   * Where `fleetvisor up` keeps its demo host (FLEETVISOR_UP_STATE_DIR, default ~/.fleetvisor-up;
   * the host's directory is its demo-host/): named when no runner answers for the home asked.
   */
  upStateDir: string;
  /**
   * The fleet's trust (FLEETVISOR_TRUST_ROOT / _FILE, FLEETVISOR_SIGNING_KEY_FILE): a runner that
   * follows a chain acts only on chain events signed by a chain-watcher key the roots certified, and
   * on operators' commands signed by a key of the right role; its one-shot commands (`upgrades
   * retry`, …) sign with the signing key. Roots empty when not configured (commands that only ask
   * a runner need none; `start` refuses to run).
   */
  trust: TrustConfig;
  /**
   * This host's own node of its chain (FLEETVISOR_RUNNER_CHAIN_RPC, CometBFT RPC): when set, a chain
   * event is also confirmed against the node at the event's height before the runner acts on it.
   */
  chainRpc: string | undefined;
  /**
   * FLEETVISOR_RUNNER_LIVE_RESTORE (default true): a runner that stops (SIGTERM: its restart or
   * upgrade) leaves its services running, and a runner that starts adopts the ones still running
   * (ADR 0007). false: it stops them, and stops what a previous life left. `wrap` never does.
   */
  liveRestore: boolean;
}

export const DEFAULT_CHILD_PATH = '/usr/local/bin:/usr/bin:/bin';

/** What a runner installed as a unit needs of its starter's environment: the bus, the trust root and its own node (never a database setting). */
const CONNECTION_SETTING = /^FLEETVISOR_(NATS_[A-Z_]+|TRUST_ROOT(_FILE)?|RUNNER_CHAIN_RPC)$/;

/** The FLEETVISOR_NATS_*, trust root and own-node settings present in env (RunnerConfig.connectionSettings). */
export function connectionSettingsFrom(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (CONNECTION_SETTING.test(name) && value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

/** The runner's environment as handed to children (see RunnerConfig.childEnvironment). */
export function childEnvironmentFrom(env: Env): Record<string, string> {
  const out: Record<string, string> = { PATH: env['PATH'] || DEFAULT_CHILD_PATH };
  for (const name of ['HOME', 'LANG', 'TZ'] as const) {
    const v = env[name];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

function goArch(arch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' } as Record<string, string>)[arch] ?? arch;
}

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  const r = envReader(env);
  const core = readBusConfig(env);
  const tuning: RunnerTuning = {
    stopGraceMs: r.duration('FLEETVISOR_RUNNER_STOP_GRACE', '10s'),
    restartInitialMs: r.duration('FLEETVISOR_RUNNER_RESTART_INITIAL', '1s'),
    restartMaxMs: r.duration('FLEETVISOR_RUNNER_RESTART_MAX', '60s'),
    healthyAfterMs: r.duration('FLEETVISOR_RUNNER_HEALTHY_AFTER', '30s'),
    crashLoopCrashes: r.int('FLEETVISOR_RUNNER_CRASH_LOOP_CRASHES', 5, { min: 2, max: 1000 }),
    crashWindowMs: r.duration('FLEETVISOR_RUNNER_CRASH_WINDOW', '60s'),
    healthStableMs: r.duration('FLEETVISOR_RUNNER_HEALTH_STABLE', '5s'),
    healthTimeoutMs: r.duration('FLEETVISOR_RUNNER_HEALTH_TIMEOUT', '30s'),
    upgradeParallelism: r.int('FLEETVISOR_RUNNER_UPGRADE_PARALLELISM', 1, { min: 1, max: 1000 }),
    logMaxBytes: r.int('FLEETVISOR_RUNNER_LOG_MAX_BYTES', 50 * 1024 * 1024, { min: 1024 }),
    logFiles: r.int('FLEETVISOR_RUNNER_LOG_FILES', 5, { min: 1, max: 100 }),
    verifyRetryInitialMs: r.duration('FLEETVISOR_RUNNER_VERIFY_RETRY_INITIAL', '1s'),
    verifyRetryMaxMs: r.duration('FLEETVISOR_RUNNER_VERIFY_RETRY_MAX', '60s'),
    heartbeatIntervalMs: r.duration('FLEETVISOR_RUNNER_HEARTBEAT_INTERVAL', '30s'),
    rollout: r.oneOf('FLEETVISOR_RUNNER_ROLLOUT', ['independent', 'coordinated'] as const, 'independent'),
    rolloutRetryMaxMs: Math.max(100, r.duration('FLEETVISOR_RUNNER_ROLLOUT_RETRY_MAX', '30s')),
  };
  if (tuning.verifyRetryInitialMs <= 0) throw new ConfigError('FLEETVISOR_RUNNER_VERIFY_RETRY_INITIAL', 'must be above 0');
  if (tuning.verifyRetryMaxMs < tuning.verifyRetryInitialMs) {
    throw new ConfigError('FLEETVISOR_RUNNER_VERIFY_RETRY_MAX', 'must be >= FLEETVISOR_RUNNER_VERIFY_RETRY_INITIAL');
  }
  if (tuning.restartMaxMs < tuning.restartInitialMs) {
    throw new ConfigError('FLEETVISOR_RUNNER_RESTART_MAX', 'must be >= FLEETVISOR_RUNNER_RESTART_INITIAL');
  }
  const secretsKeyFile = r.optionalString('FLEETVISOR_SECRETS_KEY_FILE');
  if (secretsKeyFile !== undefined && !secretsKeyFile.startsWith('/')) {
    throw new ConfigError('FLEETVISOR_SECRETS_KEY_FILE', 'must be an absolute path');
  }
  return {
    core,
    directory: r.string('FLEETVISOR_RUNNER_DIRECTORY', homedir()),
    tuning,
    // Not trimmed: a passphrase may end in a space. envReader trims, so read it raw here.
    secretsPassphrase: env['FLEETVISOR_SECRETS_PASSPHRASE'] === undefined || env['FLEETVISOR_SECRETS_PASSPHRASE'] === '' ? undefined : env['FLEETVISOR_SECRETS_PASSPHRASE'],
    secretsKeyFile,
    platform: r.string('FLEETVISOR_RUNNER_PLATFORM', `${process.platform}/${goArch(process.arch)}`),
    childEnvironment: childEnvironmentFrom(env),
    connectionSettings: connectionSettingsFrom(env),
    upStateDir: readUpStateDir(env),
    trust: readTrustConfig(env),
    chainRpc: chainRpcFrom(r.optionalString('FLEETVISOR_RUNNER_CHAIN_RPC')),
    liveRestore: r.bool('FLEETVISOR_RUNNER_LIVE_RESTORE', true),
  };
}

function chainRpcFrom(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError('FLEETVISOR_RUNNER_CHAIN_RPC', 'must be the CometBFT RPC URL of this host\'s node, e.g. http://127.0.0.1:26657');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError('FLEETVISOR_RUNNER_CHAIN_RPC', `must be http:// or https://, got ${u.protocol}//${u.host}`);
  return value;
}
