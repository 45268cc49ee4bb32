import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { initHome } from '../home/init-home';
import type { DownloadSettings } from '../home/runner-home';
import { BinaryFetcher } from '../upgrades/binary-fetcher';
import { BinaryStore } from '../upgrades/binary-store';
import { UpgradeStateStore } from '../upgrades/upgrade-state';
import { directoryOption, jsonOption, setup } from './common';
import { versionFromBus, versionFromEvents } from './one-shot';
import { startCommand } from './start.command';

// CosmJS is loaded only when a node is asked: the runner process (which holds every command of
// this entry point) must not pay for it.
async function queryNode(rpc: string) {
  const { queryProtocolVersion } = await import('../chain/protocol-version-query');
  return queryProtocolVersion(rpc);
}

const OBTAINED = { downloaded: 'downloaded, checksum verified', built: 'built by the build command' } as const;

export const initCommand = defineCliCommand({
  path: ['init'],
  summary: 'create the runner home (~/.fleetvisor), install and link the binary of the current protocol version',
  description:
    'Reads the protocol version of the chain from the VersionChanged the chain-watcher recorded (the event stream, else the chain-watcher\'s copy from the log), ' +
    'failing that from the chain-watcher\'s status over the bus, then from --node ' +
    '(ABCI query /lavanet.lava.protocol.Query/Params). The binary for provider_target must be in upgrades/v<X.Y.Z>/ or be ' +
    'downloaded (--auto-download with --manifest-url or --url-template + checksum). Safe to run again.',
  options: {
    ...directoryOption,
    'chain-id': { type: 'string', description: 'chain whose protocol version the services follow (required)', placeholder: 'id' },
    node: { type: 'string', description: 'CometBFT RPC of a node of that chain', placeholder: 'rpc' },
    binary: { type: 'string', description: 'binary name (default lavap)', placeholder: 'name' },
    'auto-download': { type: 'boolean', description: 'download missing binaries (checksum required)' },
    'auto-start': { type: 'boolean', description: 'run `start` when done' },
    'manifest-url': { type: 'string', description: 'Cosmovisor-style release manifest URL; {version} is substituted', placeholder: 'url' },
    'url-template': { type: 'string', description: 'binary URL template ({version}, {os}, {arch})', placeholder: 'url' },
    'checksum-url': { type: 'string', description: 'URL template of the sha256 file for --url-template', placeholder: 'url' },
    'build-command': { type: 'string', description: 'shell command that builds a version (gets FLEETVISOR_BUILD_VERSION/OUTPUT)', placeholder: 'cmd' },
    ...jsonOption,
  },
  examples: ['fleetvisor init --auto-download --chain-id lava-testnet-2 --node http://127.0.0.1:26657 --manifest-url https://example.org/lavap/v{version}/manifest.json'],
  async run(ctx) {
    const o = ctx.options;
    if (!o['chain-id']) throw new UsageError('--chain-id is required');
    const { config, home, logger } = setup(o.directory);
    const store = new BinaryStore(home);
    home.ensureLayout();
    const fetcher = new BinaryFetcher({
      home,
      platform: config.platform,
      onProgress: (p) => {
        if (!o.json) ctx.io.err(`\rdownloading ${p.version}: ${(p.receivedBytes / 1e6).toFixed(1)}${p.totalBytes ? `/${(p.totalBytes / 1e6).toFixed(1)}` : ''} MB`);
      },
    });
    const download: DownloadSettings = {
      ...(o['manifest-url'] ? { manifestUrl: o['manifest-url'] } : {}),
      ...(o['url-template'] ? { urlTemplate: o['url-template'] } : {}),
      ...(o['checksum-url'] ? { checksumUrl: o['checksum-url'] } : {}),
      ...(o['build-command'] ? { buildCommand: o['build-command'] } : {}),
    };
    const res = await initHome(
      home,
      store,
      fetcher,
      new UpgradeStateStore(home.stateDir),
      { chainId: o['chain-id'], ...(o.node ? { node: o.node } : {}), ...(o.binary ? { binary: o.binary } : {}), autoDownload: o['auto-download'], download },
      { fromLog: () => versionFromEvents(config.core, o['chain-id']!, logger), fromBus: () => versionFromBus(config.core, o['chain-id']!, logger), fromNode: queryNode },
    );
    logger.flush?.();
    if (o.json) ctx.io.out(JSON.stringify(res) + '\n');
    else ctx.io.out(`home ${res.home}\nprotocol version from the ${res.source}: ${res.version}\nbinary ${res.binaryPath}${res.obtained === 'installed' ? '' : ` (${OBTAINED[res.obtained]})`}\n`);
    if (o['auto-start']) return startCommand.run({ options: { directory: o.directory }, positionals: [], io: ctx.io });
    return 0;
  },
});
