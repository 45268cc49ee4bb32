// `worker-agent.proving-check` (broadcast): this agent's answer for the sectors it holds, under its
// worker's name. The file checks are SectorChecker's; this only names the answer.
import type { CommandRequestOf, ProvingCheckAnswer, AgentProvingCheck } from '@fleetvisor/contracts';
import type { SectorChecker } from './sector-checker';

export class ProvingCheck {
  constructor(
    private readonly worker: string,
    private readonly checker: SectorChecker,
  ) {}

  async answer(req: CommandRequestOf<typeof AgentProvingCheck>): Promise<ProvingCheckAnswer> {
    const r = await this.checker.check(req.minerId, req.sectorSize, req.sectors);
    return { worker: this.worker, ...r };
  }
}
