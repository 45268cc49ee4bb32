// Builds the thread source the configuration asks for.
import { SimulatedWorker, seedFromString } from '@fleetvisor/devnet';
import type { Logger } from '@fleetvisor/platform';
import type { WorkerAgentConfig } from './config';
import { BridgeSource } from './sources/bridge-source';
import { SimulatedSource } from './sources/simulated-source';
import type { ThreadSource } from './sources/thread-source';

export function createThreadSource(config: WorkerAgentConfig, logger: Logger): ThreadSource {
  if (config.source === 'bridge') return new BridgeSource({ adminUrl: config.adminUrl, pollMs: config.bridgePollMs, logger });
  const s = config.sim;
  const worker = new SimulatedWorker({
    threads: s.threads,
    stepMs: s.stepMs,
    jitter: s.jitter,
    temporaryErrorRate: s.temporaryErrorRate,
    permanentErrorRate: s.permanentErrorRate,
    seed: s.seed ?? seedFromString(config.name),
    plans: s.plans,
  });
  return new SimulatedSource(worker, s.adminListen ? { adminListen: s.adminListen } : {});
}
