// `fleetvisor chain-watcher run`: the chain-watcher service in the foreground.
import { createFleetMicroservice, listenOrClose } from '@fleetvisor/messaging';
import { createLogger, defineCliCommand, PinoNestLogger, type CliCommand } from '@fleetvisor/platform';
import { ChainWatcherLifecycle, ChainWatcherModule } from '../chain-watcher.module';
import { loadChainWatcherConfig } from '../config';

export const runCommand = defineCliCommand({
  path: ['chain-watcher', 'run'],
  summary: 'Watch the configured chains for the whole fleet (one leader per chain across replicas)',
  description:
    'Follows each chain in FLEETVISOR_CHAINS over CometBFT RPC (WebSocket, polling while it is down), appends ' +
    'VersionChanged, UpgradePlanned and ChainAnomaly to stream chain-<chainId>, serves `fleetvisor chain status`, ' +
    'and answers GET /healthz and GET /metrics on FLEETVISOR_CHAIN_WATCHER_HTTP_PORT. Replicas may run side by side: ' +
    'each chain is led by one of them. See apps/chain-watcher/README.md for every setting. Stop with Ctrl-C.',
  options: {},
  examples: ["FLEETVISOR_CHAINS='lava-testnet-2=http://127.0.0.1:26657,http://backup:26657' fleetvisor chain-watcher run"],
  async run({ io }) {
    const config = loadChainWatcherConfig();
    const logger = createLogger({ name: 'chain-watcher', level: config.core.logLevel, format: config.core.logFormat, stream: 'stderr' });
    const app = await createFleetMicroservice(ChainWatcherModule.forRoot(config, { logger }), {
      serviceName: 'chain-watcher',
      nest: { logger: new PinoNestLogger(logger) },
    });
    await listenOrClose(app);
    logger.info({ httpPort: app.get(ChainWatcherLifecycle).httpPort, host: config.core.host }, 'chain-watcher running; Ctrl-C stops');
    const signal = await io.interrupted;
    logger.info({ signal }, 'shutting down');
    await app.close();
  },
}) as unknown as CliCommand;
