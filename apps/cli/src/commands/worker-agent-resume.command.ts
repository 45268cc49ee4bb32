// `fleetvisor worker-agent resume --index N [--state S]` (damocles-worker worker resume); the
// state must be one of the thread's plan, or the agent refuses and lists the valid ones.
import { AgentResume } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { JSON_OPTION, NAME_OPTION, agentName, askAgent } from './worker-agent-client';
import { threadIndexOption } from './worker-agent-pause.command';

export const workerAgentResumeCommand = defineCliCommand({
  path: ['worker-agent', 'resume'],
  summary: 'Resume one paused sealing thread, optionally in another state of its plan',
  options: {
    index: { type: 'string', description: 'thread index', placeholder: 'N' },
    state: { type: 'string', description: 'state to resume in (a state of the thread\'s plan, e.g. PC1Done)', placeholder: 'S' },
    name: NAME_OPTION,
    json: JSON_OPTION,
  },
  examples: ['fleetvisor worker-agent resume --index 3', 'fleetvisor worker-agent resume --index 3 --state PC1Done --name w-01'],
  async run({ options, io }) {
    const index = threadIndexOption(options.index);
    if (options.state !== undefined && !/^[A-Z][A-Za-z0-9]{0,63}$/.test(options.state)) throw new UsageError(`--state must be a state name like PC1Done, got "${options.state}"`);
    const name = agentName(options.name);
    const result = await askAgent(AgentResume, name, options.state === undefined ? { index } : { index, state: options.state });
    if (options.json) io.out(JSON.stringify(result) + '\n');
    else io.out(result.changed ? `#${index} of ${name} resumed in ${result.state}\n` : `#${index} of ${name} was not paused (state ${result.state})\n`);
  },
});
