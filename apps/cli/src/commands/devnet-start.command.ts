// `fleetvisor devnet start`: run the local chain node (libs/devnet) in the foreground until
// SIGINT/SIGTERM. Prints where it listens on stdout; logs blocks (debug) and param changes (info)
// on stderr.
import type { DevnetBlock } from '@fleetvisor/devnet';
import { createLogger, defineCliCommand, parseDuration, UsageError } from '@fleetvisor/platform';
import { formatVersion, jsonOption, positiveInt, versionProblems } from './devnet-shared';

export const devnetStartCommand = defineCliCommand({
  path: ['devnet', 'start'],
  summary: 'Run a local chain node speaking CometBFT 0.38 RPC (for the demo, tests, benchmarks)',
  description:
    'Produces a block every --block-time and serves CometBFT JSON-RPC over HTTP and WebSocket (/websocket), ' +
    "Lava's /lavanet.lava.protocol.Query/Params and x/upgrade's CurrentPlan, plus an admin endpoint (/admin/*) " +
    'that `fleetvisor devnet set-version`, `schedule-upgrade` and `fault` use. With --port 0 a free port is taken; ' +
    'the first line on stdout names the URLs. Runs until interrupted (Ctrl-C, SIGTERM).',
  options: {
    'chain-id': { type: 'string', description: 'chain id in block headers and status', default: 'lava-testnet-2', placeholder: 'id' },
    host: { type: 'string', description: 'address to listen on', default: '127.0.0.1', placeholder: 'addr' },
    port: { type: 'string', description: 'port to listen on (0 = any free port)', default: '26657', placeholder: 'port' },
    'block-time': { type: 'string', description: 'interval between blocks, e.g. 1s, 500ms', default: '1s', placeholder: 'duration' },
    'initial-height': { type: 'string', description: 'height of the first block', default: '1', placeholder: 'n' },
    'provider-target': { type: 'string', description: 'genesis Version.provider_target', default: '0.21.0', placeholder: 'X.Y.Z' },
    'provider-min': { type: 'string', description: 'genesis Version.provider_min', default: '0.20.0', placeholder: 'X.Y.Z' },
    'consumer-target': { type: 'string', description: 'genesis Version.consumer_target', default: '0.21.0', placeholder: 'X.Y.Z' },
    'consumer-min': { type: 'string', description: 'genesis Version.consumer_min', default: '0.20.0', placeholder: 'X.Y.Z' },
    json: { ...jsonOption, description: 'print the listening URLs as one JSON line' },
  },
  examples: [
    'fleetvisor devnet start',
    'fleetvisor devnet start --chain-id lava-testnet-2 --port 26657 --block-time 1s',
    'FLEETVISOR_LOG_LEVEL=debug fleetvisor devnet start --port 0 --block-time 200ms --json',
  ],
  async run({ options, io }) {
    const blockTimeMs = parseDuration(options['block-time']);
    if (blockTimeMs === undefined || blockTimeMs < 10) throw new UsageError(`--block-time must be a duration of at least 10ms like 1s or 500ms, got "${options['block-time']}"`);
    const port = Number(options.port);
    if (!/^\d+$/.test(options.port) || port > 65535) throw new UsageError(`--port must be 0-65535, got "${options.port}"`);
    if (!/^[A-Za-z0-9._-]{1,50}$/.test(options['chain-id'])) throw new UsageError(`--chain-id must be 1-50 letters, digits, '.', '_' or '-', got "${options['chain-id']}"`);
    const initialHeight = positiveInt(options['initial-height'], '--initial-height') ?? 1;
    const version = {
      providerTarget: options['provider-target'],
      providerMin: options['provider-min'],
      consumerTarget: options['consumer-target'],
      consumerMin: options['consumer-min'],
    };
    const problems = versionProblems(version);
    if (problems.length) throw new UsageError(problems.join('; '));

    const devnet = await import('@fleetvisor/devnet');
    const config = devnet.readDevnetCliConfig();
    const log = createLogger({ name: 'devnet', level: config.logLevel, format: config.logFormat, stream: 'stderr' });
    const chain = await devnet.startDevnetChain({ chainId: options['chain-id'], host: options.host, port, blockTimeMs, initialHeight, version });
    chain.onBlock((b: DevnetBlock) => {
      log.debug({ height: b.height, time: b.time.toISOString(), events: b.events.length }, 'block committed');
      for (const e of b.events) {
        if (e.type === 'lava_param_change') {
          const attrs = Object.fromEntries(e.attributes.map((a) => [a.key, a.value]));
          log.info({ height: b.height, param: attrs['param'], value: attrs['value'] }, 'lava_param_change');
        }
      }
    });
    const where = { chainId: chain.chainId, rpcUrl: chain.rpcUrl, wsUrl: chain.wsUrl, adminUrl: `${chain.rpcUrl}/admin/state`, blockTimeMs, height: chain.height() };
    if (options.json) io.out(JSON.stringify(where) + '\n');
    else {
      io.out(`devnet ${chain.chainId} running: rpc ${chain.rpcUrl}  websocket ${chain.wsUrl}  admin ${where.adminUrl}\n`);
      io.out(`  block time ${blockTimeMs} ms, first height ${chain.height()}, version ${formatVersion(version)}\n`);
      io.out(`  stop with Ctrl-C\n`);
    }
    log.info(where, 'devnet started');
    const signal = await io.interrupted;
    log.info({ signal, height: chain.height() }, 'stopping devnet');
    await chain.stop();
    return 0;
  },
});
