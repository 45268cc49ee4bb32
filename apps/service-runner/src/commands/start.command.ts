import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { chainIdAliases, directoryOption, LAVAVISOR_FLAGS, logOptions, setup } from './common';

export const startCommand = defineCliCommand({
  path: ['start'],
  summary: 'supervise every service of config.yml on its linked binary and follow VersionChanged for the chain',
  description:
    'Runs until SIGTERM/SIGINT. Live-restore (FLEETVISOR_RUNNER_LIVE_RESTORE, default true): the services keep running and the next start adopts them; ' +
    'with it false they are stopped too (SIGTERM, SIGKILL after FLEETVISOR_RUNNER_STOP_GRACE). ' +
    'Keeps supervising while Postgres or NATS is down; events wait in the spool.',
  aliasesNote: LAVAVISOR_FLAGS,
  options: {
    ...directoryOption,
    'chain-id': { type: 'string', description: "only a check (LavaVisor's start takes it): must be the home's chain", placeholder: 'id', aliases: chainIdAliases },
    'auto-download': { type: 'boolean', description: "only a check (LavaVisor's start takes it): upgrades download whenever config.yml has a download source; refused when it has none" },
    ...logOptions,
  },
  async run(ctx) {
    const o = ctx.options;
    const { config, home, logger } = setup(o.directory, { log: o });
    if (o['chain-id'] !== undefined || o['auto-download']) {
      const hc = home.readConfig();
      if (o['chain-id'] !== undefined && o['chain-id'] !== hc.chainId) throw new UsageError(`--chain-id ${o['chain-id']}: the home ${home.root} follows ${hc.chainId}`);
      const d = hc.download;
      if (o['auto-download'] && !d.manifestUrl && !d.urlTemplate && !d.buildCommand) {
        throw new UsageError(`--auto-download: ${home.configFile} has no download source; \`fleetvisor init --auto-download --manifest-url <url>\` (or --url-template/--build-command) sets one`);
      }
    }
    // Nest is loaded by the commands that run the service only, not by every word of this entry point.
    const { startServiceRunner } = await import('../service-runner.module');
    const runner = await startServiceRunner({ config, logger });
    const sig = await ctx.io.interrupted;
    logger.info({ signal: sig }, 'stopping services');
    await runner.close(`runner received ${sig}`);
    logger.flush?.();
    return 0;
  },
});
