// `fleetvisor worker-agent pause --index N` (damocles-worker worker pause).
import { AgentPause } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { JSON_OPTION, NAME_OPTION, agentName, askAgent } from './worker-agent-client';

export function threadIndexOption(value: string | undefined): number {
  if (value === undefined) throw new UsageError('--index is required');
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new UsageError(`--index must be a thread index (0..65535), got "${value}"`);
  return Number(value);
}

export const workerAgentPauseCommand = defineCliCommand({
  path: ['worker-agent', 'pause'],
  summary: 'Pause one sealing thread through its worker-agent',
  options: { index: { type: 'string', description: 'thread index', placeholder: 'N' }, name: NAME_OPTION, json: JSON_OPTION },
  examples: ['fleetvisor worker-agent pause --index 3', 'fleetvisor worker-agent pause --index 3 --name w-01'],
  async run({ options, io }) {
    const index = threadIndexOption(options.index);
    const name = agentName(options.name);
    const result = await askAgent(AgentPause, name, { index });
    if (options.json) io.out(JSON.stringify(result) + '\n');
    else io.out(result.changed ? `#${index} of ${name} paused\n` : `#${index} of ${name} was already paused\n`);
  },
});
