import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { initHome } from '../home/init-home';
import type { DownloadSettings } from '../home/runner-home';
import { BinaryFetcher } from '../upgrades/binary-fetcher';
import { BinaryStore } from '../upgrades/binary-store';
import { UpgradeStateStore } from '../upgrades/upgrade-state';
import { chainIdAliases, directoryOption, jsonOption, LAVAVISOR_FLAGS, logOptions, setup } from './common';
import { versionFromBus, versionFromEvents } from './one-shot';
import { importFromLavavisor } from './import-lavavisor';
import { startCommand } from './start.command';

// CosmJS is loaded only when a node is asked: the runner process (which holds every command of
// this entry point) must not pay for it.
async function queryNode(rpc: string) {
  const { queryProtocolVersion } = await import('../chain/protocol-version-query');
  return queryProtocolVersion(rpc);
}

const OBTAINED = { downloaded: 'downloaded, checksum verified', built: 'built by the build command' } as const;

/** What `--auto-start` hands to `start`: the same home and log settings (the chain is already checked). */
function startOptions(o: { directory: string | undefined; 'log-level': string | undefined; 'log-format': string | undefined }) {
  return { directory: o.directory, 'log-level': o['log-level'], 'log-format': o['log-format'], 'chain-id': undefined, 'auto-download': false };
}

export const initCommand = defineCliCommand({
  path: ['init'],
  summary: 'create the runner home (~/.fleetvisor), install and link the binary of the current protocol version',
  args: '[--from-lavavisor [DIR]]',
  aliasesNote: LAVAVISOR_FLAGS,
  description:
    'With --from-lavavisor [DIR] (default ~/.lavavisor): imports an existing LavaVisor home instead, reading it only: the services of its config.yml ' +
    '(their unit files\' lavap command and copied configs), the binaries under upgrades/, and the current version (where its lavap link points). ' +
    'It says what it imported and what it could not, and why.\n' +
    'Reads the protocol version of the chain from the VersionChanged the chain-watcher recorded (the event stream, else the chain-watcher\'s copy from the log), ' +
    'failing that from the chain-watcher\'s status over the bus, then from --node ' +
    '(ABCI query /lavanet.lava.protocol.Query/Params). The binary for provider_target must be in upgrades/v<X.Y.Z>/ or be ' +
    'downloaded (--auto-download with --manifest-url or --url-template + checksum). Safe to run again.',
  options: {
    ...directoryOption,
    'chain-id': { type: 'string', description: 'chain whose protocol version the services follow (required, except with --from-lavavisor when its services name one)', placeholder: 'id', aliases: chainIdAliases },
    node: { type: 'string', description: 'CometBFT RPC of a node of that chain', placeholder: 'rpc' },
    binary: { type: 'string', description: 'binary name (default lavap)', placeholder: 'name' },
    'auto-download': { type: 'boolean', description: 'download missing binaries (checksum required)' },
    'auto-start': { type: 'boolean', description: 'run `start` when done' },
    'manifest-url': { type: 'string', description: 'Cosmovisor-style release manifest URL; {version} is substituted', placeholder: 'url' },
    'url-template': { type: 'string', description: 'binary URL template ({version}, {os}, {arch})', placeholder: 'url' },
    'checksum-url': { type: 'string', description: 'URL template of the sha256 file for --url-template', placeholder: 'url' },
    'build-command': { type: 'string', description: 'shell command that builds a version (gets FLEETVISOR_BUILD_VERSION/OUTPUT)', placeholder: 'cmd' },
    'from-lavavisor': { type: 'boolean', description: 'import the LavaVisor home DIR (the positional argument; default ~/.lavavisor) and nothing else' },
    ...logOptions,
    ...jsonOption,
  },
  examples: [
    'fleetvisor init --from-lavavisor',
    'fleetvisor init --from-lavavisor /srv/lava/.lavavisor --chain-id lava-testnet-2','fleetvisor init --auto-download --chain-id lava-testnet-2 --node http://127.0.0.1:26657 --manifest-url https://example.org/lavap/v{version}/manifest.json'],
  async run(ctx) {
    const o = ctx.options;
    if (o['from-lavavisor']) {
      if (ctx.positionals.length > 1) throw new UsageError('expected: init --from-lavavisor [DIR]');
      const code = await importFromLavavisor(ctx, ctx.positionals[0] ?? '~/.lavavisor');
      if (code === 0 && o['auto-start']) return startCommand.run({ options: startOptions(o), positionals: [], io: ctx.io });
      return code;
    }
    if (ctx.positionals.length) throw new UsageError(`unexpected argument ${ctx.positionals[0]}: a LavaVisor home is imported with --from-lavavisor [DIR]`);
    if (!o['chain-id']) throw new UsageError('--chain-id is required');
    const { config, home, logger } = setup(o.directory, { log: o });
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
      { fromLog: () => versionFromEvents(config.core, o['chain-id']!, logger, config.trust.roots), fromBus: () => versionFromBus(config.core, o['chain-id']!, logger), fromNode: queryNode },
    );
    logger.flush?.();
    if (o.json) ctx.io.out(JSON.stringify(res) + '\n');
    else ctx.io.out(`home ${res.home}\nprotocol version from the ${res.source}: ${res.version}\nbinary ${res.binaryPath}${res.obtained === 'installed' ? '' : ` (${OBTAINED[res.obtained]})`}\n`);
    if (o['auto-start']) return startCommand.run({ options: startOptions(o), positionals: [], io: ctx.io });
    return 0;
  },
});
