// `wrap` and `pod`: one process in the foreground, its output on stdout, for containers (LavaVisor's
// wrap and pod). When --cmd is lavap's rpcprovider / rpcconsumer and the home knows its chain (or
// --chain-id names it), the process follows the chain: it runs on its link and is upgraded on
// VersionChanged like a started service (home/followed-process.ts). Any other command is only
// supervised. `pod` always follows, and its binaries are downloaded, never built.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineCliCommand, UsageError, type CliContext, type CliIo } from '@fleetvisor/platform';
import { splitCommandLine } from '../home/command-line';
import { followedRole, prepareFollowedProcess, type FollowedProcess } from '../home/followed-process';
import { validBinaryName, validServiceName } from '../home/names';
import type { DownloadSettings, ServiceDefinition } from '../home/runner-home';
import { BinaryFetcher } from '../upgrades/binary-fetcher';
import { BinaryStore } from '../upgrades/binary-store';
import { UpgradeStateStore } from '../upgrades/upgrade-state';
import { chainIdAliases, directoryOption, LAVAVISOR_FLAGS, logOptions, setup } from './common';
import { versionFromBus, versionFromEvents } from './one-shot';

function which(bin: string, pathVar: string): string | undefined {
  if (bin.includes('/')) return existsSync(bin) ? path.resolve(bin) : undefined;
  for (const dir of pathVar.split(':')) if (dir && existsSync(path.join(dir, bin))) return path.join(dir, bin);
  return undefined;
}

const sharedOptions = {
  ...directoryOption,
  cmd: { type: 'string', description: 'the command line, e.g. "lavap rpcprovider provider.yml --from p1 --geolocation 1 --chain-id lava"', placeholder: 'cmd' },
  name: { type: 'string', description: 'service name (default wrapped-<binary>, pod-<binary> for pod)', placeholder: 'name' },
  path: { type: 'string', description: 'PATH to find the binary in', default: '/usr/local/bin:/usr/bin:/bin', placeholder: 'dirs' },
  'chain-id': { type: 'string', description: "chain to follow (default: the home's config.yml)", placeholder: 'id', aliases: chainIdAliases },
  node: { type: 'string', description: 'CometBFT RPC of a node of that chain, to learn its version when the log and the bus cannot say', placeholder: 'rpc' },
  'keyring-password': { type: 'boolean', description: 'feed the stored keyring password (`fleetvisor secrets set-password`) when lavap asks for it', aliases: ['enter-keyring-password'] },
  'manifest-url': { type: 'string', description: 'Cosmovisor-style release manifest URL; {version} is substituted', placeholder: 'url' },
  'url-template': { type: 'string', description: 'binary URL template ({version}, {os}, {arch})', placeholder: 'url' },
  'checksum-url': { type: 'string', description: 'URL template of the sha256 file for --url-template', placeholder: 'url' },
  ...logOptions,
} as const;

type SharedOptions = {
  directory: string | undefined;
  cmd: string | undefined;
  name: string | undefined;
  path: string;
  'chain-id': string | undefined;
  node: string | undefined;
  'keyring-password': boolean;
  'manifest-url': string | undefined;
  'url-template': string | undefined;
  'checksum-url': string | undefined;
  'log-level': string | undefined;
  'log-format': string | undefined;
  'auto-download'?: boolean;
};

async function queryNode(rpc: string) {
  const { queryProtocolVersion } = await import('../chain/protocol-version-query');
  return queryProtocolVersion(rpc);
}

async function runOne(ctx: CliContext<SharedOptions>, mode: 'wrap' | 'pod'): Promise<number> {
  const o = ctx.options;
  if (!o.cmd) throw new UsageError('--cmd is required');
  const argv = splitCommandLine(o.cmd);
  const [bin, ...args] = argv;
  if (!bin) throw new UsageError('--cmd is empty');
  const file = which(bin, o.path);
  const binary = validBinaryName(path.basename(bin));
  const name = validServiceName(o.name ?? `${mode === 'pod' ? 'pod' : 'wrapped'}-${binary}`);
  const { config, home, logger } = setup(o.directory, { log: o });
  const follow = mode === 'pod' || (followedRole(argv) !== undefined && (home.exists() || o['chain-id'] !== undefined));
  let def: ServiceDefinition;
  let followed: FollowedProcess | undefined;
  if (follow) {
    const download: DownloadSettings = {
      ...(o['manifest-url'] ? { manifestUrl: o['manifest-url'] } : {}),
      ...(o['url-template'] ? { urlTemplate: o['url-template'] } : {}),
      ...(o['checksum-url'] ? { checksumUrl: o['checksum-url'] } : {}),
    };
    const chainId = o['chain-id'];
    const store = new BinaryStore(home);
    followed = await prepareFollowedProcess(
      home,
      store,
      new BinaryFetcher({ home, platform: config.platform }),
      new UpgradeStateStore(home.stateDir),
      {
        argv,
        found: file,
        name,
        ...(chainId ? { chainId } : {}),
        ...(o.node ? { node: o.node } : {}),
        autoDownload: o['auto-download'] === true,
        download,
        downloadOnly: mode === 'pod',
        keyringPassword: o['keyring-password'],
        cwd: process.cwd(),
      },
      {
        fromLog: () => versionFromEvents(config.core, chainId ?? home.readConfig().chainId, logger, config.trust.roots),
        fromBus: () => versionFromBus(config.core, chainId ?? home.readConfig().chainId, logger),
        fromNode: queryNode,
      },
    );
    def = followed.definition;
    logger.info({ service: name, chainId: def.chainId, version: followed.version, from: followed.source }, `${mode}: following the chain`);
  } else {
    if (!file) throw new UsageError(`binary ${bin} not found`);
    if (followedRole(argv)) logger.warn({ home: home.root }, `${mode}: not following the chain: no runner home and no --chain-id`);
    def = { name, role: 'wrapped', binary, configPath: file, args, keyringPassword: o['keyring-password'] };
  }
  // Nest is loaded by the commands that run the service only, not by every word of this entry point.
  const { startServiceRunner } = await import('../service-runner.module');
  const runner = await startServiceRunner({ config, logger, echo: true, wrapped: [def], ...(follow ? { followChain: true } : {}) });
  return waitAndClose(ctx.io, runner, logger);
}

async function waitAndClose(io: CliIo, runner: { close(reason?: string): Promise<void> }, logger: { flush?: () => void }): Promise<number> {
  const sig = await io.interrupted;
  await runner.close(`runner received ${sig}`);
  logger.flush?.();
  // The child's last words were echoed to a pipe: let them out before the process exits.
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  return 0;
}

export const wrapCommand = defineCliCommand({
  path: ['wrap'],
  summary: 'supervise one process (for containers): restarts with backoff, output to stdout and a log file; lavap follows the chain',
  aliasesNote: LAVAVISOR_FLAGS,
  description:
    'A `lavap rpcprovider|rpcconsumer ...` command follows the chain of the home (or of --chain-id), like LavaVisor\'s wrap: it runs on\n' +
    'upgrades/v<X.Y.Z>/lavap and is upgraded on VersionChanged, health-checked, rolled back and quarantined like a started service.\n' +
    'Its first binary: its link from a previous run, else current/lavap (`fleetvisor init`), else the lavap on --path (copied in),\n' +
    'else the chain\'s version downloaded (--auto-download). Any other command is supervised only.',
  options: {
    ...sharedOptions,
    'auto-download': { type: 'boolean', description: 'download the binary of the chain\'s version when none is installed (upgrades download whenever a source is configured)' },
  },
  examples: [
    'fleetvisor wrap --cmd "lavap rpcconsumer consumer.yml --geolocation 1 --from user1 --chain-id lava" --chain-id lava --auto-download --manifest-url https://example.org/lavap/v{version}/manifest.json',
  ],
  run: (ctx) => runOne(ctx as CliContext<SharedOptions>, 'wrap'),
});

export const podCommand = defineCliCommand({
  path: ['pod'],
  summary: 'one lavap in the foreground for a container or Kubernetes pod, logs to stdout, following the chain with downloaded binaries',
  aliasesNote: LAVAVISOR_FLAGS,
  description:
    'LavaVisor\'s pod: needs no `init`. --directory is where the pod keeps its home (a persistent volume). The binary of the chain\'s version\n' +
    'is downloaded (--manifest-url, or --url-template with --checksum-url; or the home\'s config.yml download:), never built; a lavap\n' +
    'already in the image (on --path) is used as the first version. Upgrades on VersionChanged as `start` does.',
  options: sharedOptions,
  examples: ['fleetvisor pod --cmd "lavap rpcprovider provider.yml --geolocation 1 --from p1 --chain-id lava" --chain-id lava --directory /data --manifest-url https://example.org/lavap/v{version}/manifest.json'],
  run: (ctx) => runOne(ctx as CliContext<SharedOptions>, 'pod'),
});
