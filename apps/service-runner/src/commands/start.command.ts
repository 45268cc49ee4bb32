import { defineCliCommand } from '@fleetvisor/platform';
import { directoryOption, setup } from './common';

export const startCommand = defineCliCommand({
  path: ['start'],
  summary: 'supervise every service of config.yml on its linked binary and follow VersionChanged for the chain',
  description:
    'Runs until SIGTERM/SIGINT, which it passes on to the services (SIGKILL after FLEETVISOR_RUNNER_STOP_GRACE). ' +
    'Keeps supervising while Postgres or NATS is down; events wait in the spool.',
  options: { ...directoryOption },
  async run(ctx) {
    const { config, logger } = setup(ctx.options.directory);
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
