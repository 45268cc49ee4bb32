// `fleetvisor worker-agent run`: the agent in the foreground until SIGINT/SIGTERM.
import { createLogger, defineCliCommand, type CliCommand } from '@fleetvisor/platform';
import { loadWorkerAgentConfig } from '../config';
import { startWorkerAgent } from '../worker-agent.module';

export const runCommand = defineCliCommand({
  path: ['worker-agent', 'run'],
  summary: 'Run the worker-agent beside a sealing worker: report its threads, execute pause/resume/drain',
  description: [
    'Reports every thread of one sealing worker to the worker-registry over NATS every interval, and serves',
    'list / pause / resume / drain for that worker (fleet.cmd.worker-agent.<name>.<verb>). The thread state comes',
    'from a simulated worker (FLEETVISOR_WORKER_SOURCE=simulated, the default) or from a damocles-worker admin',
    'JSON-RPC (FLEETVISOR_WORKER_SOURCE=bridge, FLEETVISOR_WORKER_ADMIN_URL). It keeps running while NATS is down',
    'and delivers what happened meanwhile once it is back. Settings: FLEETVISOR_WORKER_NAME (default: host name),',
    'FLEETVISOR_WORKER_DEST, FLEETVISOR_WORKER_REPORT_INTERVAL (10s), FLEETVISOR_WORKER_SIM_* and FLEETVISOR_NATS_URL;',
    'see apps/worker-agent/README.md. Stops on SIGINT/SIGTERM.',
  ].join('\n'),
  options: {},
  examples: [
    'FLEETVISOR_WORKER_NAME=w-01 fleetvisor worker-agent run',
    'FLEETVISOR_WORKER_SOURCE=bridge FLEETVISOR_WORKER_ADMIN_URL=http://127.0.0.1:17890/ fleetvisor worker-agent run',
  ],
  async run({ io }) {
    const config = loadWorkerAgentConfig();
    const logger = createLogger({ name: 'worker-agent', level: config.core.logLevel, format: config.core.logFormat });
    const { app } = await startWorkerAgent(config, { logger });
    const signal = await io.interrupted;
    logger.info({ signal }, 'stopping');
    await app.close();
    return 0;
  },
}) as unknown as CliCommand;
