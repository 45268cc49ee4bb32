// `wrap` and `pod` following the chain (LavaVisor's wrap and pod): the one process of --cmd becomes a
// service of the home's chain that runs on its link, services/<name>.bin -> upgrades/v<X.Y.Z>/lavap,
// so the upgrade coordinator moves it on VersionChanged exactly as it moves a started service.
// Where its first binary comes from, in order:
//   1. its own link, from a previous run of the same wrap (a container restarted with its --directory);
//   2. the home's current/<binary> (set by `init`);
//   3. the --cmd binary found on PATH (e.g. the one in the container image), copied into upgrades/;
//   4. the chain's version (log, bus, node, as `init` learns it), downloaded (pod: always; wrap: with
//      --auto-download). A pod never builds: LavaVisor's pod fetches release binaries only.
import { copyFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { ProtocolVersion } from '@fleetvisor/contracts';
import type { VersionLookup } from '../commands/one-shot';
import type { BinaryFetcher } from '../upgrades/binary-fetcher';
import type { BinaryStore } from '../upgrades/binary-store';
import type { UpgradeStateStore } from '../upgrades/upgrade-state';
import { initHome } from './init-home';
import { validateLavapConfig } from './lavap-config';
import { validBinaryName, validChainId, validServiceName } from './names';
import type { DownloadSettings, HomeConfig, RunnerHome, ServiceDefinition } from './runner-home';

export class FollowError extends Error {
  override name = 'FollowError';
}

export interface FollowedProcessInput {
  /** --cmd split: binary, rpcprovider|rpcconsumer, config, flags... */
  argv: string[];
  /** Absolute path of argv[0] on PATH, when found. */
  found: string | undefined;
  name: string;
  chainId?: string;
  node?: string;
  autoDownload: boolean;
  download: DownloadSettings;
  /** pod: download only, never build. */
  downloadOnly: boolean;
  keyringPassword: boolean;
  cwd: string;
}

export interface FollowedProcess {
  definition: ServiceDefinition;
  version: string;
  /** Where its binary came from (one of the four above). */
  source: string;
}

/** The role a --cmd line runs, or undefined when it is not lavap's rpcprovider/rpcconsumer. */
export function followedRole(argv: readonly string[]): 'provider' | 'consumer' | undefined {
  return argv[1] === 'rpcprovider' ? 'provider' : argv[1] === 'rpcconsumer' ? 'consumer' : undefined;
}

export async function prepareFollowedProcess(
  home: RunnerHome,
  store: BinaryStore,
  fetcher: BinaryFetcher,
  state: UpgradeStateStore,
  input: FollowedProcessInput,
  sources: { fromLog: () => Promise<VersionLookup>; fromBus: () => Promise<VersionLookup>; fromNode: (rpc: string) => Promise<ProtocolVersion> },
): Promise<FollowedProcess> {
  const role = followedRole(input.argv);
  if (!role) throw new FollowError(`--cmd runs \`${input.argv.slice(0, 2).join(' ')}\`: only lavap rpcprovider / rpcconsumer follow the chain`);
  const binary = validBinaryName(path.basename(input.argv[0]!));
  const name = validServiceName(input.name);
  home.ensureLayout();
  const prior = home.exists() ? home.readConfig() : undefined;
  if (prior && input.chainId && prior.chainId !== input.chainId) throw new FollowError(`the home ${home.root} follows ${prior.chainId}, not ${input.chainId}`);
  const chainId = validChainId(input.chainId ?? prior?.chainId ?? (() => {
    throw new FollowError(`no runner home at ${home.root} and no --chain-id: give the chain to follow`);
  })());
  if (prior && prior.binary !== binary) throw new FollowError(`the home ${home.root} runs ${prior.binary}, --cmd runs ${binary}`);
  const download = { ...prior?.download, ...input.download };
  if (input.downloadOnly && download.buildCommand) {
    throw new FollowError(`a pod downloads release binaries and never builds: the home's config.yml has download.build-command; remove it, or use \`wrap\``);
  }
  const config: HomeConfig = {
    chainId,
    ...(input.node ?? prior?.node ? { node: (input.node ?? prior?.node)! } : {}),
    binary,
    autoDownload: input.autoDownload || (prior?.autoDownload ?? false),
    download,
    upgrade: prior?.upgrade ?? {},
    services: prior?.services ?? [],
  };
  home.writeConfig(config);

  const link = home.serviceLink(name);
  const installed = (v: string | undefined): v is string => v !== undefined && existsSync(home.binaryPath(v, binary));
  let version: string | undefined;
  let source = '';
  const own = store.linkedVersion(link);
  const current = store.linkedVersion(home.currentLink(binary));
  if (installed(own)) {
    version = own;
    source = `its link from a previous run (${link})`;
  } else if (installed(current)) {
    version = current;
    source = `the home's current/${binary}`;
  } else if (input.found && !input.found.startsWith(home.root + path.sep)) {
    const reported = await store.reportedVersion(input.found);
    if (!reported) throw new FollowError(`\`${input.found} version\` reports no X.Y.Z version`);
    const dest = home.binaryPath(reported, binary);
    if (!existsSync(dest)) {
      mkdirSync(path.dirname(dest), { recursive: true });
      copyFileSync(input.found, `${dest}.tmp`);
      chmodSync(`${dest}.tmp`, 0o755);
      renameSync(`${dest}.tmp`, dest);
    }
    store.switchLink(home.currentLink(binary), reported, binary);
    version = reported;
    source = `${input.found} (copied into ${path.dirname(dest)})`;
  } else {
    if (!input.autoDownload && !input.downloadOnly) {
      throw new FollowError(`${binary} is neither installed in ${home.upgradesDir} nor on PATH: run \`fleetvisor init\`, or give --auto-download with a download source`);
    }
    const { buildCommand: _never, ...downloadOnly } = download;
    const r = await initHome(home, store, fetcher, state, { chainId, ...(config.node ? { node: config.node } : {}), binary, autoDownload: true, download: input.downloadOnly ? downloadOnly : download }, sources);
    version = r.version;
    source = `the chain's version from the ${r.source}, ${r.obtained === 'installed' ? 'installed' : r.obtained}`;
  }
  store.switchLink(link, version, binary);

  const configArg = input.argv[2];
  const configPath = configArg && !configArg.startsWith('-') ? path.resolve(input.cwd, configArg) : undefined;
  if (!configPath || !existsSync(configPath)) throw new FollowError(`--cmd names no lavap config file that exists (${configArg ?? 'none'})`);
  let networkAddress: string | undefined;
  try {
    networkAddress = validateLavapConfig(role, readFileSync(configPath, 'utf8')).networkAddress;
  } catch {
    // lavap itself judges its config; the health probe then only checks that it stays up
  }
  return {
    definition: {
      name,
      role,
      chainId,
      binary,
      configPath,
      args: input.argv.slice(1),
      ...(networkAddress ? { networkAddress } : {}),
      keyringPassword: input.keyringPassword,
    },
    version,
    source,
  };
}
