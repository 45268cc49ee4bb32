// `fleetvisor worker-registry run`: the registry service in the foreground.
import { setFlagsFromString } from 'node:v8';
import { createFleetMicroservice, listenOrClose } from '@fleetvisor/messaging';
import { defineCliCommand, type CliCommand } from '@fleetvisor/platform';
import { readWorkerRegistryConfig } from '../config';
import { WorkerRegistryModule } from '../worker-registry.module';

export const runCommand = defineCliCommand({
  path: ['worker-registry', 'run'],
  summary: 'Run the worker registry: take worker reports, answer `fleetvisor worker …`, proxy pause/resume/drain',
  description: [
    'Loads workers and threads from its projection (caught up with the event log first), then serves',
    'fleet.cmd.worker-registry.* until SIGINT/SIGTERM. Settings (environment):',
    '  FLEETVISOR_WORKER_EXPIRATION (10m), FLEETVISOR_WORKER_EXPIRY_CHECK_INTERVAL, FLEETVISOR_WORKER_LAST_SEEN_FLUSH_INTERVAL (5s),',
    '  FLEETVISOR_WORKER_AGENT_TIMEOUT (5s), FLEETVISOR_WORKER_REGISTRY_POOL_SIZE (16), plus the core FLEETVISOR_* variables.',
  ].join('\n'),
  options: {
    'no-relay': { type: 'boolean', description: 'do not take part in the outbox relay election' },
  },
  examples: ['fleetvisor worker-registry run', 'FLEETVISOR_WORKER_EXPIRATION=2m fleetvisor worker-registry run'],
  async run({ options, io }) {
    const config = readWorkerRegistryConfig();
    // Every report is parsed JSON that is garbage a moment later. With V8's default growth the old
    // generation grows to several times the live heap before a full collection, and RSS with it;
    // growing by a small step at a time keeps RSS near the live heap, for a few more (incremental,
    // off-thread marked) full collections.
    setFlagsFromString(`--heap-growing-percent=${config.registry.heapGrowingPercent}`);
    let lostLeadership: () => void = () => undefined;
    const lost = new Promise<string>((resolve) => (lostLeadership = () => resolve('leader lock lost')));
    // Start-up failures (Postgres or NATS unreachable) come back naming the variable to fix.
    const app = await createFleetMicroservice(WorkerRegistryModule.forRoot(config, { relay: !options['no-relay'], onLeadershipLost: () => lostLeadership() }), {
      serviceName: 'worker-registry',
      nest: { logger: false },
    });
    await listenOrClose(app);
    io.err(`worker-registry: serving on ${config.core.subjectRoot}.cmd.worker-registry.* (expiration ${config.registry.expirationMs} ms)\n`);
    const why = await Promise.race([io.interrupted, lost]);
    io.err(`worker-registry: ${why}, stopping\n`);
    await app.close();
    return why === 'leader lock lost' ? 1 : 0;
  },
}) as unknown as CliCommand;
