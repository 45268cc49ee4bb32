// `init`: creates the home, learns the chain's protocol version (the VersionChanged the
// chain-watcher recorded first — from the event stream, else the watcher's copy from the log; the
// host has no database credentials — then the chain-watcher's status over the bus, then the node), makes sure the binary for it is installed
// (downloading it with --auto-download), and links current/<binary> to it.
import type { ProtocolVersion } from '@fleetvisor/contracts';
import type { BinaryFetcher, ObtainedBy } from '../upgrades/binary-fetcher';
import type { VersionLookup } from '../commands/one-shot';
import type { BinaryStore } from '../upgrades/binary-store';
import type { UpgradeStateStore } from '../upgrades/upgrade-state';
import { existsSync } from 'node:fs';
import { validChainId } from './names';
import type { DownloadSettings, HomeConfig, RunnerHome } from './runner-home';

export interface InitInput {
  chainId: string;
  node?: string;
  binary?: string;
  autoDownload: boolean;
  download: DownloadSettings;
}

export interface InitResult {
  home: string;
  version: string;
  source: 'log' | 'bus' | 'node';
  binaryPath: string;
  /** True only for a download whose sha256 was verified; a built binary is `obtained: 'built'`. */
  downloaded: boolean;
  /** How the binary got there: already installed, downloaded and checksum-verified, or built by the build command. */
  obtained: 'installed' | ObtainedBy;
}

export class InitError extends Error {
  override name = 'InitError';
}

export async function initHome(
  home: RunnerHome,
  store: BinaryStore,
  fetcher: BinaryFetcher,
  state: UpgradeStateStore,
  input: InitInput,
  sources: { fromLog: () => Promise<VersionLookup>; fromBus: () => Promise<VersionLookup>; fromNode: (rpc: string) => Promise<ProtocolVersion> },
): Promise<InitResult> {
  const chainId = validChainId(input.chainId);
  home.ensureLayout();
  const prior = home.exists() ? home.readConfig() : undefined;
  const config: HomeConfig = {
    chainId,
    ...(input.node ?? prior?.node ? { node: input.node ?? prior!.node! } : {}),
    binary: input.binary ?? prior?.binary ?? 'lavap',
    autoDownload: input.autoDownload || (prior?.autoDownload ?? false),
    download: { ...prior?.download, ...input.download },
    upgrade: prior?.upgrade ?? {},
    services: prior?.services ?? [],
  };
  let pv: ProtocolVersion | undefined;
  let height: number | undefined;
  let source: InitResult['source'] = 'log';
  // Each place the version can come from, in order; when none has it, the error names why for each.
  const why: string[] = [];
  for (const [name, lookup] of [['log', sources.fromLog], ['bus', sources.fromBus]] as const) {
    const r = await lookup();
    if ('found' in r) {
      pv = r.found.version;
      height = r.found.height;
      source = name;
      break;
    }
    why.push(`${name}: ${r.missing}`);
  }
  if (!pv && config.node) {
    const node = config.node;
    pv = await sources.fromNode(node).catch((e: unknown) => {
      why.push(`node: the node ${node} is unreachable (set by --node or node: in config.yml): ${(e as Error).message}`);
      return undefined;
    });
    source = 'node';
  } else if (!pv) {
    why.push('node: no node to ask: give --node <rpc>');
  }
  if (!pv) throw new InitError(`cannot learn the protocol version of ${chainId}:\n  ${why.join('\n  ')}`);
  // Like lavavisor: the home's binary is the provider target (consumers move on VersionChanged).
  const version = pv.providerTarget;
  const binaryPath = home.binaryPath(version, config.binary);
  let obtained: InitResult['obtained'] = 'installed';
  if (!existsSync(binaryPath)) {
    if (!config.autoDownload) {
      throw new InitError(`${config.binary} ${version} is not installed at ${binaryPath}: put it there, or run init with --auto-download and a download source`);
    }
    obtained = (await fetcher.obtainBinary(version, config.binary, config.download)).obtainedBy;
  }
  const reported = await store.reportedVersion(binaryPath);
  if (reported !== version) throw new InitError(`${binaryPath} reports version ${reported ?? '(none)'}, expected ${version}`);
  store.switchLink(home.currentLink(config.binary), version, config.binary);
  home.writeConfig(config);
  state.update((d) => {
    d.protocol = { version: pv!, ...(height !== undefined ? { height } : {}) };
  });
  return { home: home.root, version, source, binaryPath, downloaded: obtained === 'downloaded', obtained };
}
