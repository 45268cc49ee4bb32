// The runner's home on disk (`<directory>/.fleetvisor`), like lavavisor's `~/.lavavisor`:
//   config.yml                     chain, node, binary, download/upgrade settings, services: [...]
//   services/<name>.yml            one service definition (role, binary, args, network address)
//   services/configs/<name>.yml    the lavap config the service runs with (copied by create-service)
//   services/<name>.bin            link to the binary the service runs (upgrades/v<X.Y.Z>/<binary>)
//   upgrades/v<X.Y.Z>/<binary>     installed binaries, one folder per version
//   current/<binary>               link to the binary new services start on
//   logs/<name>.log[.N]            child stdout/stderr, rotated
//   spool/                         events not yet in the log (see events/event-spool.ts)
//   state/                         upgrade state machine, last known protocol version
//   secrets/                       the encrypted keyring password
//   runner.sock                    local control socket of a running `fleetvisor start`
// Every path is built here from validated names, so nothing outside the home is ever touched.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { SERVICE_ROLES, type ServiceRole } from '@fleetvisor/contracts';
import { parseDuration } from '@fleetvisor/platform';
import { writeFileAtomic } from './atomic-file';
import { HomeError } from './runner-home-errors';
import { parseAttentionRules, SERVICE_KINDS, type AttentionRule, type ServiceKind } from '../supervision/attention';
import { parseProbe, serializeProbe, type ProbeSpec } from '../supervision/service-probe';
import { validBinaryName, validChainId, validServiceName, validVersion } from './names';

export const HOME_DIR_NAME = '.fleetvisor';

export interface DownloadSettings {
  /** URL of a Cosmovisor release manifest, `{version}` substituted: {"binaries":{"linux/amd64":"<url>?checksum=sha256:<hex>"}}. */
  manifestUrl?: string;
  /** URL of the binary, `{version}`, `{os}`, `{arch}` substituted; needs checksumUrl or checksums. */
  urlTemplate?: string;
  /** URL of a file holding the sha256 hex of urlTemplate's binary (same substitutions). */
  checksumUrl?: string;
  /** sha256 hex per version, for urlTemplate. */
  checksums?: Record<string, string>;
  /** Shell command that builds the binary: gets FLEETVISOR_BUILD_VERSION and FLEETVISOR_BUILD_OUTPUT in its environment. */
  buildCommand?: string;
}

export interface UpgradeSettings {
  /** Services restarted at once (1 = rolling, the default). */
  parallelism?: number;
  /** Pre-upgrade hook (Cosmovisor exit codes: 0 ok, 1 not implemented = ok, 30 fail, 31 retry). */
  preUpgrade?: string;
  /** Health probe after a restart: stay up only, or also TCP connect / HTTP GET on the network address. */
  probe?: 'none' | 'tcp' | 'http';
  /**
   * `retry: { policy: canary, every: 10m }`: a quarantined target is proved by a canary (the new
   * binary on a spare port, the running service untouched) every `every`, and upgraded to once a
   * canary is healthy (ADR 0008). Absent: only a new VersionChanged or `upgrades retry` lifts it.
   */
  retry?: RetryPolicy;
}

export interface RetryPolicy {
  policy: 'canary';
  everyMs: number;
}

/** Shortest canary interval: a canary costs a process start and a health window. */
export const MIN_CANARY_EVERY_MS = 1_000;

export interface HomeConfig {
  chainId: string;
  node?: string;
  binary: string;
  autoDownload: boolean;
  download: DownloadSettings;
  upgrade: UpgradeSettings;
  services: string[];
}

export interface ServiceDefinition {
  name: string;
  role: ServiceRole;
  chainId?: string;
  binary: string;
  /** The copied lavap config (absolute). */
  configPath: string;
  /** Arguments after the binary. Never holds a secret (the keyring password goes to stdin). */
  args: string[];
  /** host:port the service listens on (first endpoint), for the health probe. */
  networkAddress?: string;
  /** Feed the stored keyring password when the child prompts for it. */
  keyringPassword: boolean;
  /**
   * The service's own environment variables (services/<name>.yml `env:`). The child gets these
   * and the runner's PATH, HOME, LANG and TZ, nothing else of the runner's environment.
   */
  env?: Record<string, string>;
  /**
   * What the service runs when it is not lavap (role `wrapped`): venus-wallet, damocles-manager,
   * venus-sealer or other. It chooses the built-in attention patterns, the default probe and how a
   * password is delivered.
   */
  kind?: ServiceKind;
  /** The binary to run (absolute), for a service that follows no chain: run as it is, no link under services/. */
  command?: string;
  /** The service's own health probe, run while it runs (its kind's default unless `probe: none`). */
  probe?: ProbeSpec;
  /** Attention patterns configured for this service (its kind's built-in ones apply too). */
  attention?: AttentionRule[];
  /**
   * How the stored password reaches the service: `prompt` (default; typed on its stdin when it
   * prints a password prompt, lavap's keyring) or `json-rpc` (venus-wallet: its own API method
   * `passwordMethod`, default Filecoin.Unlock, at the probe's address with the probe's admin token).
   */
  passwordVia?: 'prompt' | 'json-rpc';
  passwordMethod?: string;
}

export { HomeError };

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new HomeError(`${what} must be a mapping`);
  return v as Record<string, unknown>;
}
const optString = (o: Record<string, unknown>, key: string, what: string): string | undefined => {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new HomeError(`${what}: ${key} must be a non-empty string`);
  return v;
};

/** `{ policy: canary, every: <duration> }` (durations as the environment's: 10m, 90s, 1h). */
export function parseRetryPolicy(v: unknown, what: string): RetryPolicy {
  const r = asRecord(v, what);
  for (const k of Object.keys(r)) if (k !== 'policy' && k !== 'every') throw new HomeError(`${what}: unknown key ${k} (policy, every)`);
  if (r['policy'] !== 'canary') throw new HomeError(`${what}.policy must be canary (the only retry policy; without upgrade.retry a quarantined version waits for a new VersionChanged or \`upgrades retry\`)`);
  const every = typeof r['every'] === 'string' ? parseDuration(r['every']) : undefined;
  if (every === undefined) throw new HomeError(`${what}.every must be a duration such as 10m, 90s or 1h`);
  if (every < MIN_CANARY_EVERY_MS) throw new HomeError(`${what}.every must be at least 1s`);
  return { policy: 'canary', everyMs: every };
}

export function parseHomeConfig(text: string, file = 'config.yml'): HomeConfig {
  const o = asRecord(parseYaml(text) ?? {}, file);
  const chainId = validChainId(o['chain-id']);
  const binary = validBinaryName(o['binary'] ?? 'lavap');
  const d = o['download'] === undefined ? {} : asRecord(o['download'], `${file}: download`);
  const u = o['upgrade'] === undefined ? {} : asRecord(o['upgrade'], `${file}: upgrade`);
  const download: DownloadSettings = {};
  for (const [key, prop] of [
    ['manifest-url', 'manifestUrl'],
    ['url-template', 'urlTemplate'],
    ['checksum-url', 'checksumUrl'],
    ['build-command', 'buildCommand'],
  ] as const) {
    const v = optString(d, key, `${file}: download`);
    if (v !== undefined) download[prop] = v;
  }
  if (d['checksums'] !== undefined) {
    const c = asRecord(d['checksums'], `${file}: download.checksums`);
    download.checksums = {};
    for (const [ver, hex] of Object.entries(c)) {
      if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/i.test(hex)) throw new HomeError(`${file}: download.checksums.${ver} must be a sha256 hex`);
      download.checksums[validVersion(ver)] = hex.toLowerCase();
    }
  }
  const upgrade: UpgradeSettings = {};
  if (u['parallelism'] !== undefined) {
    const p = u['parallelism'];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1) throw new HomeError(`${file}: upgrade.parallelism must be an integer >= 1`);
    upgrade.parallelism = p;
  }
  const hook = optString(u, 'pre-upgrade', `${file}: upgrade`);
  if (hook !== undefined) upgrade.preUpgrade = hook;
  if (u['probe'] !== undefined) {
    if (u['probe'] !== 'none' && u['probe'] !== 'tcp' && u['probe'] !== 'http') throw new HomeError(`${file}: upgrade.probe must be none, tcp or http`);
    upgrade.probe = u['probe'];
  }
  if (u['retry'] !== undefined) upgrade.retry = parseRetryPolicy(u['retry'], `${file}: upgrade.retry`);
  const services = o['services'] ?? [];
  if (!Array.isArray(services)) throw new HomeError(`${file}: services must be a list`);
  const node = optString(o, 'node', file);
  return {
    chainId,
    ...(node !== undefined ? { node } : {}),
    binary,
    autoDownload: o['auto-download'] === true,
    download,
    upgrade,
    services: services.map((s) => validServiceName(s)),
  };
}

export function serializeHomeConfig(c: HomeConfig): string {
  const download: Record<string, unknown> = {};
  if (c.download.manifestUrl) download['manifest-url'] = c.download.manifestUrl;
  if (c.download.urlTemplate) download['url-template'] = c.download.urlTemplate;
  if (c.download.checksumUrl) download['checksum-url'] = c.download.checksumUrl;
  if (c.download.checksums) download['checksums'] = c.download.checksums;
  if (c.download.buildCommand) download['build-command'] = c.download.buildCommand;
  const upgrade: Record<string, unknown> = {};
  if (c.upgrade.parallelism !== undefined) upgrade['parallelism'] = c.upgrade.parallelism;
  if (c.upgrade.preUpgrade) upgrade['pre-upgrade'] = c.upgrade.preUpgrade;
  if (c.upgrade.probe) upgrade['probe'] = c.upgrade.probe;
  if (c.upgrade.retry) upgrade['retry'] = { policy: c.upgrade.retry.policy, every: `${c.upgrade.retry.everyMs}ms` };
  return stringifyYaml({
    'chain-id': c.chainId,
    ...(c.node ? { node: c.node } : {}),
    binary: c.binary,
    'auto-download': c.autoDownload,
    ...(Object.keys(download).length ? { download } : {}),
    ...(Object.keys(upgrade).length ? { upgrade } : {}),
    services: c.services,
  });
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * A service's `env:` mapping. FLEETVISOR_* names are refused: they are the runner's own settings
 * (database URL, secrets passphrase...), and a child must never be handed them.
 */
export function parseServiceEnv(v: unknown, file: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const o = asRecord(v, `${file}: env`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (!ENV_NAME.test(k)) throw new HomeError(`${file}: env: "${k}" is not a variable name (letters, digits, _)`);
    if (/^FLEETVISOR_/i.test(k)) throw new HomeError(`${file}: env: ${k}: FLEETVISOR_* variables are the runner's own and are never given to a service`);
    if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') throw new HomeError(`${file}: env.${k} must be a string`);
    const text = String(val);
    if (text.includes('\0')) throw new HomeError(`${file}: env.${k} must not contain a NUL character`);
    out[k] = text;
  }
  return Object.keys(out).length ? out : undefined;
}

export function parseServiceDefinition(text: string, file: string): ServiceDefinition {
  const o = asRecord(parseYaml(text), file);
  const role = o['role'];
  if (typeof role !== 'string' || !(SERVICE_ROLES as readonly string[]).includes(role)) throw new HomeError(`${file}: role must be one of ${SERVICE_ROLES.join(', ')}`);
  const args = o['args'];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new HomeError(`${file}: args must be a list of strings`);
  const configPath = o['config'];
  if (typeof configPath !== 'string' || !path.isAbsolute(configPath)) throw new HomeError(`${file}: config must be an absolute path`);
  const chainId = o['chain-id'] === undefined ? undefined : validChainId(o['chain-id']);
  const networkAddress = optString(o, 'network-address', file);
  const env = parseServiceEnv(o['env'], file);
  const kindRaw = o['kind'];
  if (kindRaw !== undefined && !(SERVICE_KINDS as readonly unknown[]).includes(kindRaw)) throw new HomeError(`${file}: kind must be one of ${SERVICE_KINDS.join(', ')}`);
  const kind = kindRaw as ServiceKind | undefined;
  const command = optString(o, 'command', file);
  if (command !== undefined && (!path.isAbsolute(command) || role !== 'wrapped')) throw new HomeError(`${file}: command must be an absolute path, for a service of role wrapped (lavap services run their link)`);
  const probe = parseProbe(o['probe'], kind, file, networkAddress);
  const attention = parseAttentionRules(o['attention'], file);
  const via = o['password-via'] ?? (kind === 'venus-wallet' ? 'json-rpc' : undefined);
  if (via !== undefined && via !== 'prompt' && via !== 'json-rpc') throw new HomeError(`${file}: password-via must be prompt or json-rpc`);
  const passwordMethod = optString(o, 'password-method', file);
  if (passwordMethod !== undefined && !/^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$/.test(passwordMethod)) throw new HomeError(`${file}: password-method must be a JSON-RPC method such as Filecoin.Unlock`);
  // venus-wallet holds its password in memory only: every start needs it again.
  const keyringPassword = o['keyring-password'] === undefined ? kind === 'venus-wallet' : o['keyring-password'] === true;
  if (keyringPassword && via === 'json-rpc' && (probe?.type !== 'json-rpc' || !probe.tokenFile)) {
    throw new HomeError(`${file}: password-via json-rpc needs a json-rpc probe with a token-file (an admin token: venus-wallet auth api-info --perm admin)`);
  }
  return {
    name: validServiceName(o['name']),
    role: role as ServiceRole,
    ...(chainId ? { chainId } : {}),
    binary: validBinaryName(o['binary']),
    configPath,
    args: args as string[],
    ...(networkAddress ? { networkAddress } : {}),
    keyringPassword,
    ...(env ? { env } : {}),
    ...(kind ? { kind } : {}),
    ...(command ? { command } : {}),
    ...(probe ? { probe } : {}),
    ...(attention ? { attention } : {}),
    ...(via ? { passwordVia: via as 'prompt' | 'json-rpc' } : {}),
    ...(passwordMethod ? { passwordMethod } : {}),
  };
}

export function serializeServiceDefinition(d: ServiceDefinition): string {
  return stringifyYaml({
    name: d.name,
    role: d.role,
    ...(d.chainId ? { 'chain-id': d.chainId } : {}),
    binary: d.binary,
    config: d.configPath,
    args: d.args,
    ...(d.networkAddress ? { 'network-address': d.networkAddress } : {}),
    'keyring-password': d.keyringPassword,
    ...(d.env && Object.keys(d.env).length ? { env: d.env } : {}),
    ...(d.kind ? { kind: d.kind } : {}),
    ...(d.command ? { command: d.command } : {}),
    ...(d.probe ? { probe: serializeProbe(d.probe) } : d.kind && d.kind !== 'lavap' && d.kind !== 'other' ? { probe: 'none' } : {}),
    ...(d.attention ? { attention: d.attention.map((r) => ({ id: r.id, pattern: r.pattern.source, problem: r.problem, remedy: r.remedy })) } : {}),
    ...(d.passwordVia ? { 'password-via': d.passwordVia } : {}),
    ...(d.passwordMethod ? { 'password-method': d.passwordMethod } : {}),
  });
}

export class RunnerHome {
  readonly root: string;

  constructor(directory: string) {
    this.root = path.resolve(directory, HOME_DIR_NAME);
  }

  get configFile(): string {
    return path.join(this.root, 'config.yml');
  }
  get servicesDir(): string {
    return path.join(this.root, 'services');
  }
  get serviceConfigsDir(): string {
    return path.join(this.root, 'services', 'configs');
  }
  get upgradesDir(): string {
    return path.join(this.root, 'upgrades');
  }
  get currentDir(): string {
    return path.join(this.root, 'current');
  }
  get logsDir(): string {
    return path.join(this.root, 'logs');
  }
  get spoolDir(): string {
    return path.join(this.root, 'spool');
  }
  get stateDir(): string {
    return path.join(this.root, 'state');
  }
  get secretsDir(): string {
    return path.join(this.root, 'secrets');
  }
  get socketPath(): string {
    return path.join(this.root, 'runner.sock');
  }
  get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  serviceFile(name: string): string {
    return path.join(this.servicesDir, `${validServiceName(name)}.yml`);
  }
  serviceConfigFile(name: string): string {
    return path.join(this.serviceConfigsDir, `${validServiceName(name)}.yml`);
  }
  serviceLink(name: string): string {
    return path.join(this.servicesDir, `${validServiceName(name)}.bin`);
  }
  logFile(name: string): string {
    return path.join(this.logsDir, `${validServiceName(name)}.log`);
  }
  versionDir(version: string): string {
    return path.join(this.upgradesDir, `v${validVersion(version)}`);
  }
  binaryPath(version: string, binary: string): string {
    return path.join(this.versionDir(version), validBinaryName(binary));
  }
  currentLink(binary: string): string {
    return path.join(this.currentDir, validBinaryName(binary));
  }

  exists(): boolean {
    return existsSync(this.configFile);
  }

  ensureLayout(): void {
    for (const d of [this.root, this.servicesDir, this.serviceConfigsDir, this.upgradesDir, this.currentDir, this.logsDir, this.spoolDir, this.stateDir, this.tmpDir]) {
      mkdirSync(d, { recursive: true });
    }
    mkdirSync(this.secretsDir, { recursive: true, mode: 0o700 });
  }

  readConfig(): HomeConfig {
    if (!this.exists()) throw new HomeError(`no runner home at ${this.root}: run \`fleetvisor init --chain-id <id>\` first`);
    return parseHomeConfig(readFileSync(this.configFile, 'utf8'), this.configFile);
  }

  writeConfig(c: HomeConfig): void {
    writeFileAtomic(this.configFile, serializeHomeConfig(c));
  }

  readService(name: string): ServiceDefinition {
    const file = this.serviceFile(name);
    if (!existsSync(file)) throw new HomeError(`service ${name} has no definition at ${file}`);
    const def = parseServiceDefinition(readFileSync(file, 'utf8'), file);
    if (def.name !== name) throw new HomeError(`${file}: name ${def.name} does not match the file name`);
    return def;
  }

  writeService(d: ServiceDefinition): void {
    writeFileAtomic(this.serviceFile(d.name), serializeServiceDefinition(d));
  }

  /** Installed versions of a binary (folders upgrades/v<X.Y.Z> that hold it). */
  installedVersions(binary: string): string[] {
    if (!existsSync(this.upgradesDir)) return [];
    const out: string[] = [];
    for (const entry of readdirSync(this.upgradesDir)) {
      const m = /^v(\d+\.\d+\.\d+)$/.exec(entry);
      if (!m) continue;
      try {
        if (existsSync(this.binaryPath(m[1]!, binary))) out.push(validVersion(m[1]));
      } catch {
        // not a strict version folder
      }
    }
    return out;
  }

  /** The version a link points at (upgrades/v<X.Y.Z>/<binary>), or undefined. */
  linkedVersion(link: string): string | undefined {
    try {
      const target = readlinkSync(link);
      const m = /(?:^|\/)v(\d+\.\d+\.\d+)\/[^/]+$/.exec(target);
      return m ? m[1] : undefined;
    } catch {
      return undefined;
    }
  }
}
