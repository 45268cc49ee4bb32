// `fleetvisor worker drain <worker> [--wait]`: each thread pauses at its next state boundary and
// takes no new task; with --wait, progress is shown until every thread is paused.
import { WorkerDrain, type CommandResultOf } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { parseDurationOption, withRegistry, WORKER_REF_HELP } from './worker-common';
import { REMOTE_OPTIONS, remoteOf } from '../remote';

type Progress = CommandResultOf<typeof WorkerDrain>;

const line = (p: Progress) => `${p.worker}: ${p.paused}/${p.threads} threads paused${p.finished ? ', drained' : ''}`;

export const workerDrainCommand = defineCliCommand({
  path: ['worker', 'drain'],
  args: '<worker>',
  summary: 'Drain a worker: every thread pauses at its next state boundary; --wait shows progress until all are paused',
  description: `${WORKER_REF_HELP[0]!.toUpperCase()}${WORKER_REF_HELP.slice(1)}. Asking again reports progress. Resume threads one by one with 'fleetvisor worker resume'.`,
  options: {
    wait: { type: 'boolean', description: 'keep asking until every thread is paused' },
    interval: { type: 'string', description: 'with --wait: how often to ask', default: '1s', placeholder: 'duration' },
    timeout: { type: 'string', description: 'with --wait: give up after', default: '30m', placeholder: 'duration' },
    json: { type: 'boolean', description: 'each progress report as a JSON line' },
    ...REMOTE_OPTIONS,
  },
  examples: ['fleetvisor worker drain w-01', 'fleetvisor worker drain w-01 --wait'],
  async run({ options, positionals, io }) {
    if (positionals.length !== 1) throw new UsageError('name one worker');
    const intervalMs = parseDurationOption(options.interval, 'interval');
    const timeoutMs = parseDurationOption(options.timeout, 'timeout');
    const request = { worker: positionals[0]! };
    const remote = remoteOf(options);
    const show = (p: Progress) => io.out(options.json ? JSON.stringify(p) + '\n' : line(p) + '\n');
    return withRegistry(async (ask) => {
      let p = await ask(WorkerDrain, request);
      show(p);
      if (!options.wait || p.finished) return 0;
      const deadline = Date.now() + timeoutMs;
      let last = `${p.paused}/${p.threads}`;
      for (;;) {
        const stop = await Promise.race([io.interrupted.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), intervalMs))]);
        if (stop) {
          io.err('interrupted; the drain goes on (ask again to see progress)\n');
          return 1;
        }
        p = await ask(WorkerDrain, request);
        const now = `${p.paused}/${p.threads}`;
        if (now !== last || p.finished) show(p);
        last = now;
        if (p.finished) return 0;
        if (Date.now() > deadline) {
          io.err(`not drained after ${options.timeout}: ${line(p)}; the drain goes on\n`);
          return 1;
        }
      }
    }, remote);
  },
});
