// `fleetvisor worker-agent list`: every sealing thread of one worker, from its agent (the same
// content as `damocles-worker worker list`).
import { AgentThreadList } from '@fleetvisor/contracts';
import { defineCliCommand } from '@fleetvisor/platform';
import { JSON_OPTION, NAME_OPTION, agentName, askAgent, threadTable } from './worker-agent-client';

export const workerAgentListCommand = defineCliCommand({
  path: ['worker-agent', 'list'],
  summary: "List a worker's sealing threads, from its worker-agent",
  description: 'Asks the worker-agent named --name (default: this host) over NATS; columns as in `damocles-worker worker list`.',
  options: { name: NAME_OPTION, json: JSON_OPTION },
  examples: ['fleetvisor worker-agent list', 'fleetvisor worker-agent list --name w-01 --json'],
  async run({ options, io }) {
    const result = await askAgent(AgentThreadList, agentName(options.name), {});
    if (options.json) io.out(JSON.stringify(result) + '\n');
    else io.out(`${result.name}  ${result.dest}  version ${result.version}\n` + threadTable(result.threads));
  },
});
