// `chain-watcher.proving-miner` and `proving-sectors` on the bus: any replica answers (queue
// group), from the miner's chain node. Queries: they change nothing, so they need no signed
// identity. And `chain-watcher.proving-leader-status`: every replica hears it, the chain's leader answers.
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChainProvingLeaderStatus, ChainProvingMiner, ChainProvingSectors, type CommandRequestOf, type CommandResultOf, type FilecoinChainStatus } from '@fleetvisor/contracts';
import type { FleetCommandPattern } from '@fleetvisor/messaging';
import { ProvingWatcher } from './proving-watcher';

@Controller()
export class ProvingController {
  constructor(@Inject(ProvingWatcher) private readonly proving: ProvingWatcher) {}

  @MessagePattern<FleetCommandPattern>(ChainProvingMiner)
  miner(@Payload() req: CommandRequestOf<typeof ChainProvingMiner>): Promise<CommandResultOf<typeof ChainProvingMiner>> {
    return this.proving.miner(req.minerId);
  }

  /** Only the leader of the chain answers; the others return nothing (no reply on a broadcast). */
  @MessagePattern<FleetCommandPattern>({ command: ChainProvingLeaderStatus, scope: 'broadcast' })
  leaderStatus(@Payload() req: CommandRequestOf<typeof ChainProvingLeaderStatus>): FilecoinChainStatus | undefined {
    return this.proving.localChainStatus(req.chainId);
  }

  @MessagePattern<FleetCommandPattern>(ChainProvingSectors)
  sectors(@Payload() req: CommandRequestOf<typeof ChainProvingSectors>): Promise<CommandResultOf<typeof ChainProvingSectors>> {
    return this.proving.deadlineSectors(req.minerId, req.deadline);
  }
}
