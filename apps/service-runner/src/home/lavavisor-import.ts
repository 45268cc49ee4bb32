// `init --from-lavavisor [DIR]`: takes an existing LavaVisor home into the runner home, reading it
// only (nothing under DIR is written, moved, or linked to). LavaVisor's layout, as its source has it
// (lavanet/lava ecosystem/lavavisor):
//   config.yml                                 services: [<from>-<chain>.service, ...]   (create-service appends)
//   services/<name>.service                    systemd unit; ExecStart=<dir of lavap>/lavap rpcprovider|rpcconsumer
//                                              .lavavisor/services/protocol_yml_configs/<file> --from .. --keyring-backend ..
//                                              --parallel-connections .. --chain-id .. --geolocation .. --log_level .. --node ..
//   services/protocol_yml_configs/<file>.yml   the lavap configs create-service copied
//   upgrades/v<X.Y.Z>/lavap                    installed binaries (`lava-protocol` in releases before lavap)
// and the current version is no file of the home: it is where the `lavap` on PATH (or in
// $GOPATH/bin) links to, upgrades/v<X.Y.Z>/lavap (init and every upgrade re-link it).
// Each service becomes a runner service through createService (same naming, same flags, the config
// copied and validated); each binary is copied and must report its folder's version. What cannot
// be taken is listed with the reason, never silently dropped.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, mkdirSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { createService, type CreateServiceResult } from './create-service';
import { splitCommandLine } from './command-line';
import { validChainId, validVersion } from './names';
import type { DownloadSettings, HomeConfig, RunnerHome } from './runner-home';
import type { EventRecorder } from '../events/event-recorder';
import type { BinaryStore } from '../upgrades/binary-store';
import { compareStrictVersions } from '@fleetvisor/contracts';

export class LavavisorImportError extends Error {
  override name = 'LavavisorImportError';
}

/** One service's ExecStart, as LavaVisor's create-service writes it. */
export interface LavavisorService {
  name: string;
  unitFile: string;
  /** Path of the binary ExecStart runs (LavaVisor's `lavap` link). */
  binaryPath: string;
  role: 'provider' | 'consumer';
  /** The lavap config as written in ExecStart. */
  configArg: string;
  flags: Record<string, string>;
  /** Flags with no counterpart in a runner service. */
  unknownFlags: string[];
}

/** The flags LavaVisor's create-service writes, by their name in ExecStart. */
const KNOWN_FLAGS = ['from', 'keyring-backend', 'parallel-connections', 'chain-id', 'geolocation', 'log_level', 'log-level', 'node'] as const;

/** Reads a unit file's ExecStart (the last one; systemd allows continuation lines with `\`). */
export function parseLavavisorUnit(name: string, unitFile: string, text: string): LavavisorService {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const lines = joined.split(/\r?\n/).map((l) => l.trim()).filter((l) => /^ExecStart\s*=/.test(l));
  const line = lines.at(-1);
  if (!line) throw new LavavisorImportError('no ExecStart= line');
  const tokens = splitCommandLine(line.replace(/^ExecStart\s*=\s*[-@:+!]*/, ''));
  const [binaryPath, sub, configArg, ...rest] = tokens;
  if (!binaryPath || !sub) throw new LavavisorImportError(`ExecStart has no command: ${line}`);
  if (sub !== 'rpcprovider' && sub !== 'rpcconsumer') throw new LavavisorImportError(`ExecStart runs \`${path.basename(binaryPath)} ${sub}\`, not rpcprovider or rpcconsumer`);
  if (!configArg || configArg.startsWith('--')) throw new LavavisorImportError('ExecStart names no config file');
  const flags: Record<string, string> = {};
  const unknownFlags: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const t = rest[i]!;
    if (!t.startsWith('--')) {
      unknownFlags.push(t);
      continue;
    }
    const eq = t.indexOf('=');
    const key = eq > 0 ? t.slice(2, eq) : t.slice(2);
    let value: string | undefined;
    if (eq > 0) value = t.slice(eq + 1);
    else if (i + 1 < rest.length && !rest[i + 1]!.startsWith('--')) value = rest[++i];
    if ((KNOWN_FLAGS as readonly string[]).includes(key)) {
      // LavaVisor writes `--node ` with nothing after it when create-service had no --node.
      if (value !== undefined && value !== '') flags[key === 'log-level' ? 'log_level' : key] = value;
    } else unknownFlags.push(value === undefined ? `--${key}` : `--${key} ${value}`);
  }
  return { name, unitFile, binaryPath, role: sub === 'rpcprovider' ? 'provider' : 'consumer', configArg, flags, unknownFlags };
}

/**
 * The LavaVisor home DIR names: DIR itself when it is a `.lavavisor` folder (or looks like one),
 * else DIR/.lavavisor (LavaVisor's own --directory names the folder that holds .lavavisor).
 */
export function resolveLavavisorDir(dir: string, home = os.homedir()): string {
  const expanded = dir === '~' ? home : dir.startsWith('~/') ? path.join(home, dir.slice(2)) : dir;
  const abs = path.resolve(expanded);
  const looksLikeHome = (d: string) => ['config.yml', 'upgrades', 'services'].some((f) => existsSync(path.join(d, f)));
  if (path.basename(abs) !== '.lavavisor' && !looksLikeHome(abs) && existsSync(path.join(abs, '.lavavisor'))) return path.join(abs, '.lavavisor');
  if (!existsSync(abs)) throw new LavavisorImportError(`no LavaVisor home at ${abs}`);
  if (!looksLikeHome(abs)) throw new LavavisorImportError(`${abs} is not a LavaVisor home: it has no config.yml, upgrades/ or services/`);
  return abs;
}

/** The LavaVisor version a `lavap` link selects: upgrades/v<X.Y.Z>/<file> under src, else undefined. */
export function linkedLavavisorVersion(link: string, src: string): string | undefined {
  try {
    if (!lstatSync(link).isSymbolicLink()) return undefined;
    const target = path.resolve(path.dirname(link), readlinkSync(link));
    const rel = path.relative(path.join(src, 'upgrades'), target);
    const m = /^v(\d+\.\d+\.\d+)\/(lavap|lava-protocol)$/.exec(rel.split(path.sep).join('/'));
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

/** Where LavaVisor's `lavap` link can be: what the services run, then PATH, then $GOPATH/bin and ~/go/bin. */
export function lavapLinkCandidates(services: readonly LavavisorService[], env: Readonly<Record<string, string | undefined>>, home = env['HOME'] ?? os.homedir()): string[] {
  const out = services.map((s) => s.binaryPath).filter((p) => path.isAbsolute(p));
  for (const d of (env['PATH'] ?? '').split(':')) if (d) out.push(path.join(d, 'lavap'));
  if (env['GOPATH']) out.push(path.join(env['GOPATH'], 'bin', 'lavap'));
  out.push(path.join(home, 'go', 'bin', 'lavap'));
  return [...new Set(out)];
}

export interface ImportedBinary {
  version: string;
  from: string;
  outcome: 'imported' | 'already-installed';
}

export interface ImportedService {
  name: string;
  role: 'provider' | 'consumer';
  outcome: CreateServiceResult['outcome'];
  linkedVersion: string | undefined;
}

export interface LavavisorImportReport {
  source: string;
  home: string;
  chainId: string;
  current: { version: string; how: string } | undefined;
  binaries: ImportedBinary[];
  services: ImportedService[];
  /** What was not taken, and why. */
  skipped: { what: string; why: string }[];
  /** config.yml names where upgrades are downloaded or built from. */
  download: boolean;
}

export interface LavavisorImportInput {
  /** The LavaVisor home (a `.lavavisor` folder, or the folder holding one). */
  dir: string;
  /** Required when the services do not name one chain. */
  chainId?: string;
  node?: string;
  /** Where upgrades come from from now on (LavaVisor's fetched from GitHub; ours needs a source). */
  download?: DownloadSettings;
  autoDownload?: boolean;
  /** PATH, HOME (and GOPATH when known) to look for LavaVisor's `lavap` link in (lavapLinkCandidates). */
  env: Readonly<Record<string, string | undefined>>;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function unitName(entry: unknown): string | undefined {
  return typeof entry === 'string' && entry.length > 0 ? entry.replace(/\.service$/, '') : undefined;
}

export async function importLavavisorHome(home: RunnerHome, store: BinaryStore, recorder: EventRecorder, input: LavavisorImportInput): Promise<LavavisorImportReport> {
  const src = resolveLavavisorDir(input.dir);
  const skipped: LavavisorImportReport['skipped'] = [];

  // 1. The services config.yml lists (LavaVisor starts those only), each from its unit file.
  const listed: string[] = [];
  const configYml = path.join(src, 'config.yml');
  if (existsSync(configYml)) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(configYml, 'utf8'));
    } catch (e) {
      throw new LavavisorImportError(`${configYml} is not YAML: ${(e as Error).message}`);
    }
    const services = (doc as { services?: unknown } | null)?.services;
    if (services !== undefined && services !== null && !Array.isArray(services)) throw new LavavisorImportError(`${configYml}: services must be a list`);
    for (const s of (services as unknown[] | undefined) ?? []) {
      const n = unitName(s);
      if (n) listed.push(n);
      else skipped.push({ what: `config.yml entry ${JSON.stringify(s)}`, why: 'not a service name' });
    }
  } else skipped.push({ what: 'config.yml', why: `${configYml} does not exist: no service is listed` });
  const servicesDir = path.join(src, 'services');
  if (existsSync(servicesDir)) {
    for (const f of readdirSync(servicesDir)) {
      if (f.endsWith('.service') && !listed.includes(f.replace(/\.service$/, ''))) skipped.push({ what: `services/${f}`, why: 'not listed in config.yml, so LavaVisor does not start it' });
    }
  }
  const parsed: LavavisorService[] = [];
  for (const name of listed) {
    const unitFile = path.join(servicesDir, `${name}.service`);
    if (!existsSync(unitFile)) {
      skipped.push({ what: `service ${name}`, why: `listed in config.yml but ${unitFile} does not exist` });
      continue;
    }
    try {
      parsed.push(parseLavavisorUnit(name, unitFile, readFileSync(unitFile, 'utf8')));
    } catch (e) {
      skipped.push({ what: `service ${name}`, why: `${unitFile}: ${(e as Error).message}` });
    }
  }

  // 2. The chain: the one given, else the one every service names.
  const chains = [...new Set(parsed.map((s) => s.flags['chain-id']).filter((c): c is string => c !== undefined))];
  const prior = home.exists() ? home.readConfig() : undefined;
  const chainId = validChainId(input.chainId ?? (chains.length === 1 ? chains[0] : prior?.chainId));
  if (!input.chainId && chains.length > 1) throw new LavavisorImportError(`the services name several chains (${chains.join(', ')}): give --chain-id`);
  if (prior && prior.chainId !== chainId) throw new LavavisorImportError(`the runner home ${home.root} follows ${prior.chainId}, not ${chainId}: import into another --directory`);
  const nodes = [...new Set(parsed.map((s) => s.flags['node']).filter((n): n is string => n !== undefined))];
  const node = input.node ?? prior?.node ?? (nodes.length === 1 ? nodes[0] : undefined);
  const binary = prior?.binary ?? 'lavap';

  // 3. The binaries, copied (never moved or linked to) and checked against their folder's version.
  home.ensureLayout();
  const binaries: ImportedBinary[] = [];
  const upgradesDir = path.join(src, 'upgrades');
  if (existsSync(upgradesDir)) {
    for (const entry of readdirSync(upgradesDir).sort()) {
      const dir = path.join(upgradesDir, entry);
      if (!statSync(dir).isDirectory()) continue;
      let version: string;
      try {
        version = validVersion(entry);
      } catch {
        skipped.push({ what: `upgrades/${entry}`, why: 'not a v<X.Y.Z> version folder' });
        continue;
      }
      const file = ['lavap', 'lava-protocol'].map((f) => path.join(dir, f)).find((f) => existsSync(f));
      if (!file) {
        skipped.push({ what: `upgrades/${entry}`, why: 'holds no lavap (or lava-protocol) binary' });
        continue;
      }
      if ((statSync(file).mode & 0o111) === 0) {
        skipped.push({ what: path.relative(src, file), why: 'not executable' });
        continue;
      }
      const dest = home.binaryPath(version, binary);
      if (existsSync(dest)) {
        if (sha256(dest) === sha256(file)) binaries.push({ version, from: file, outcome: 'already-installed' });
        else skipped.push({ what: path.relative(src, file), why: `a different ${binary} ${version} is already installed at ${dest}` });
        continue;
      }
      mkdirSync(path.dirname(dest), { recursive: true });
      const tmp = `${dest}.import.tmp`;
      copyFileSync(file, tmp);
      chmodSync(tmp, 0o755);
      const reported = await store.reportedVersion(tmp);
      if (reported !== version) {
        rmSync(tmp, { force: true });
        skipped.push({ what: path.relative(src, file), why: `\`${path.basename(file)} version\` reports ${reported ?? 'nothing usable'}, not ${version}` });
        continue;
      }
      renameSync(tmp, dest);
      binaries.push({ version, from: file, outcome: 'imported' });
    }
  } else skipped.push({ what: 'upgrades/', why: `${upgradesDir} does not exist: no binary to import` });

  // 4. The current version: where LavaVisor's lavap link points, else the newest binary taken.
  const installed = binaries.map((b) => b.version);
  let current: LavavisorImportReport['current'];
  const candidates = lavapLinkCandidates(parsed, input.env);
  for (const link of candidates) {
    const v = linkedLavavisorVersion(link, src);
    if (!v) continue;
    if (installed.includes(v)) current = { version: v, how: `${link} links to upgrades/v${v}` };
    else skipped.push({ what: `current version ${v}`, why: `${link} links to upgrades/v${v}, which was not imported` });
    break;
  }
  if (!current && installed.length) {
    const newest = [...installed].sort((a, b) => compareStrictVersions(b, a))[0]!;
    current = { version: newest, how: `no lavap link into ${upgradesDir} found (looked at ${candidates.join(', ') || 'nothing'}); the newest imported version` };
  }

  const config: HomeConfig = {
    chainId,
    ...(node ? { node } : {}),
    binary,
    autoDownload: input.autoDownload === true || (prior?.autoDownload ?? false),
    download: { ...prior?.download, ...input.download },
    upgrade: prior?.upgrade ?? {},
    services: prior?.services ?? [],
  };
  home.writeConfig(config);
  if (current) store.switchLink(home.currentLink(binary), current.version, binary);

  // 5. The services, through create-service (validated, named <from>-<first endpoint's chain>).
  const services: ImportedService[] = [];
  for (const s of parsed) {
    const what = `service ${s.name}`;
    const configFile = path.isAbsolute(s.configArg) && existsSync(s.configArg) ? s.configArg : path.join(servicesDir, 'protocol_yml_configs', path.basename(s.configArg));
    if (!existsSync(configFile)) {
      skipped.push({ what, why: `its lavap config ${s.configArg} is not in ${path.dirname(configFile)}` });
      continue;
    }
    const missing = ['from', 'keyring-backend', 'geolocation'].filter((f) => s.flags[f] === undefined);
    if (missing.length) {
      skipped.push({ what, why: `ExecStart lacks ${missing.map((m) => `--${m}`).join(', ')}` });
      continue;
    }
    if (s.flags['chain-id'] !== undefined && s.flags['chain-id'] !== chainId) {
      skipped.push({ what, why: `it runs on chain ${s.flags['chain-id']}, the runner home follows ${chainId}` });
      continue;
    }
    try {
      const r = createService(home, store, recorder, {
        role: s.role,
        configFile,
        from: s.flags['from']!,
        geolocation: s.flags['geolocation']!,
        keyringBackend: s.flags['keyring-backend']!,
        chainId,
        ...(s.flags['node'] ? { node: s.flags['node'] } : {}),
        ...(s.flags['log_level'] ? { logLevel: s.flags['log_level'] } : {}),
        ...(s.flags['parallel-connections'] ? { parallelConnections: s.flags['parallel-connections'] } : {}),
      });
      services.push({ name: r.name, role: s.role, outcome: r.outcome, linkedVersion: r.linkedVersion });
      if (r.name !== s.name) skipped.push({ what: `the name ${s.name}`, why: `the service is named ${r.name} (<from>-<chain-id of its config's first endpoint>)` });
      for (const f of s.unknownFlags) skipped.push({ what: `${s.name}: ${f}`, why: 'a runner service takes only the flags create-service writes' });
    } catch (e) {
      skipped.push({ what, why: (e as Error).message });
    }
  }
  const d = config.download;
  return { source: src, home: home.root, chainId, current, binaries, services, skipped, download: Boolean(d.manifestUrl || d.urlTemplate || d.buildCommand) };
}
