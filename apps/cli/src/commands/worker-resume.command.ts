// `fleetvisor worker resume <worker> <index> [<state>]`: resume one paused thread, in its state or
// in another state of its plan (checked by the registry before the agent is asked).
import { WorkerResume, STATE_NAME_PATTERN } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { askRegistry, parseIndex, planStatesHelp, WORKER_REF_HELP } from './worker-common';
import { REMOTE_OPTIONS, remoteOf } from '../remote';

export const workerResumeCommand = defineCliCommand({
  path: ['worker', 'resume'],
  args: '<worker> <index> [<state>]',
  summary: 'Resume one paused thread, in its current state or in <state> (must be a state of its plan)',
  description: `${WORKER_REF_HELP[0]!.toUpperCase()}${WORKER_REF_HELP.slice(1)}. A state outside the thread's plan is refused, listing the valid ones, and nothing changes.\nStates by plan:\n${planStatesHelp()}`,
  options: {
    json: { type: 'boolean', description: 'the result as one JSON object' },
    ...REMOTE_OPTIONS,
  },
  examples: ['fleetvisor worker resume w-01 3', 'fleetvisor worker resume w-01 3 PC1Done'],
  async run({ options, positionals, io }) {
    if (positionals.length < 2 || positionals.length > 3) throw new UsageError('expected <worker> <index> [<state>]');
    const state = positionals[2];
    if (state !== undefined && !new RegExp(STATE_NAME_PATTERN).test(state)) throw new UsageError(`"${state}" is not a state name (e.g. PC1Done)`);
    const r = await askRegistry(WorkerResume, {
      worker: positionals[0]!,
      index: parseIndex(positionals[1]),
      ...(state !== undefined ? { state } : {}),
    }, 10_000, remoteOf(options));
    if (options.json) io.out(JSON.stringify(r) + '\n');
    else io.out(r.changed ? `${r.worker} thread #${r.index} resumed in ${r.state}\n` : `${r.worker} thread #${r.index} was not paused (state ${r.state})\n`);
  },
});
