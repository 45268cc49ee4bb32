// `fleetvisor worker-agent drain`: every thread pauses at its next state boundary and takes no
// new task; asking again shows the progress.
import { AgentDrain } from '@fleetvisor/contracts';
import { defineCliCommand } from '@fleetvisor/platform';
import { JSON_OPTION, NAME_OPTION, agentName, askAgent } from './worker-agent-client';

export const workerAgentDrainCommand = defineCliCommand({
  path: ['worker-agent', 'drain'],
  summary: 'Drain a worker through its agent: each thread pauses at its next state boundary',
  options: { name: NAME_OPTION, json: JSON_OPTION },
  examples: ['fleetvisor worker-agent drain --name w-01'],
  async run({ options, io }) {
    const name = agentName(options.name);
    const result = await askAgent(AgentDrain, name, {});
    if (options.json) io.out(JSON.stringify(result) + '\n');
    else io.out(`${name}: ${result.paused}/${result.threads} threads paused${result.finished ? ' — drained' : ' — draining'}\n`);
  },
});
