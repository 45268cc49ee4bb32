// `init`: creates the home, learns the chain's protocol version (the log first — the
// chain-watcher records it — then the node), makes sure the binary for it is installed
// (downloading it with --auto-download), and links current/<binary> to it.
import type { ProtocolVersion } from '@fleetvisor/contracts';
import type { BinaryFetcher } from '../upgrades/binary-fetcher';
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
  source: 'log' | 'node';
  binaryPath: string;
  downloaded: boolean;
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
  sources: { fromLog: () => Promise<{ version: ProtocolVersion; height: number } | undefined>; fromNode: (rpc: string) => Promise<ProtocolVersion> },
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
  let source: 'log' | 'node' = 'log';
  const logged = await sources.fromLog().catch(() => undefined);
  if (logged) {
    pv = logged.version;
    height = logged.height;
  } else if (config.node) {
    pv = await sources.fromNode(config.node).catch((e: unknown) => {
      throw new InitError(`cannot read the protocol version from ${config.node}: ${(e as Error).message}`);
    });
    source = 'node';
  } else {
    throw new InitError(`no VersionChanged for ${chainId} in the log and no --node to ask: give --node <rpc>`);
  }
  // Like lavavisor: the home's binary is the provider target (consumers move on VersionChanged).
  const version = pv.providerTarget;
  const binaryPath = home.binaryPath(version, config.binary);
  let downloaded = false;
  if (!existsSync(binaryPath)) {
    if (!config.autoDownload) {
      throw new InitError(`${config.binary} ${version} is not installed at ${binaryPath}: put it there, or run init with --auto-download and a download source`);
    }
    await fetcher.obtain(version, config.binary, config.download);
    downloaded = true;
  }
  const reported = await store.reportedVersion(binaryPath);
  if (reported !== version) throw new InitError(`${binaryPath} reports version ${reported ?? '(none)'}, expected ${version}`);
  store.switchLink(home.currentLink(config.binary), version, config.binary);
  home.writeConfig(config);
  state.update((d) => {
    d.protocol = { version: pv!, ...(height !== undefined ? { height } : {}) };
  });
  return { home: home.root, version, source, binaryPath, downloaded };
}
