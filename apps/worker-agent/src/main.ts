// Entry point of the worker-agent: `fleetvisor worker-agent run` (the CLI runs this file with the
// same arguments). Configuration comes from the environment (config.ts); see README.md.
import { createLogger, defineCliCommand, runMain, type CliCommand } from '@fleetvisor/platform';
import { loadWorkerAgentConfig } from './config';
import { createThreadSource } from './create-source';
import { WorkerAgent } from './worker-agent';

const runCommand = defineCliCommand({
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
    const source = createThreadSource(config, logger);
    const agent = new WorkerAgent({
      name: config.name,
      dest: config.dest,
      natsUrl: config.core.natsUrl,
      subjectRoot: config.core.subjectRoot,
      source,
      logger,
      reportIntervalMs: config.reportIntervalMs,
      reportTimeoutMs: config.reportTimeoutMs,
      maxPendingTransitions: config.maxPendingTransitions,
    });
    await agent.start();
    const signal = await io.interrupted;
    logger.info({ signal }, 'stopping');
    await agent.stop();
    return 0;
  },
});

const COMMANDS: readonly CliCommand[] = [runCommand] as unknown as CliCommand[];

runMain('fleetvisor', COMMANDS, 'fleetvisor worker-agent — reports one sealing worker to the registry and executes its commands.');
