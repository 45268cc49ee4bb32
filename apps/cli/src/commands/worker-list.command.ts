// `fleetvisor worker list`: every sealing worker the registry knows, with thread counts and last ping.
import { WorkerListPage, type WorkerSummary } from '@fleetvisor/contracts';
import { defineCliCommand } from '@fleetvisor/platform';
import { formatWorkerList, parseDurationOption, withRegistry } from './worker-common';
import { REMOTE_OPTIONS, remoteOf } from '../remote';

export const workerListCommand = defineCliCommand({
  path: ['worker', 'list'],
  summary: 'Every sealing worker: threads, empty, paused, running, waiting, errors, last ping',
  description: 'LastPing ends with ! when the worker is silent past the expiration (or the registry marked it expired).',
  options: {
    expiration: { type: 'string', description: 'mark LastPing with ! past this silence', default: '10m', placeholder: 'duration' },
    json: { type: 'boolean', description: 'the list as one JSON object' },
    ...REMOTE_OPTIONS,
  },
  examples: ['fleetvisor worker list', 'fleetvisor worker list --expiration 2m', 'fleetvisor worker list --json', 'fleetvisor worker list --url https://fleet.example:8080 --token $TOKEN'],
  async run({ options, io }) {
    const expirationMs = parseDurationOption(options.expiration, 'expiration');
    const remote = remoteOf(options);
    // Page by page: a fleet of thousands does not fit one NATS message.
    const workers = await withRegistry(async (ask) => {
      const all: WorkerSummary[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await ask(WorkerListPage, after === undefined ? {} : { after });
        all.push(...page.workers);
        if (page.next === undefined) return all;
        after = page.next;
      }
    }, remote);
    if (options.json) io.out(JSON.stringify({ workers }) + '\n');
    else io.out(formatWorkerList(workers, Date.now(), expirationMs));
  },
});
