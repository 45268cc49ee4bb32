// `worker-agent.proving-check` (broadcast): this agent's answer for the sectors it holds, under its
// worker's name. The file checks are SectorChecker's; this only names the answer. A busy checker
// answers nothing (a broadcast failure gets no reply), as an agent that is not there.
import type { CommandRequestOf, ProvingCheckAnswer, AgentProvingCheck } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging';
import { CheckerBusy, type SectorChecker } from './sector-checker';

export class ProvingCheck {
  constructor(
    private readonly worker: string,
    private readonly checker: SectorChecker,
  ) {}

  async answer(req: CommandRequestOf<typeof AgentProvingCheck>): Promise<ProvingCheckAnswer> {
    try {
      const r = await this.checker.check(req.minerId, req.sectorSize, req.sectors);
      return { worker: this.worker, ...r };
    } catch (e) {
      if (e instanceof CheckerBusy) throw new CommandFailure('unavailable', `${this.worker}: ${e.message}`);
      throw e;
    }
  }
}
