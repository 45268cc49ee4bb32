// `chain-watcher.proving-miner` on the bus: any replica answers (queue group), from the miner's
// chain node. A query: it changes nothing, so it needs no signed identity.
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChainProvingMiner, type CommandRequestOf, type CommandResultOf } from '@fleetvisor/contracts';
import type { FleetCommandPattern } from '@fleetvisor/messaging';
import { ProvingWatcher } from './proving-watcher';

@Controller()
export class ProvingController {
  constructor(@Inject(ProvingWatcher) private readonly proving: ProvingWatcher) {}

  @MessagePattern<FleetCommandPattern>(ChainProvingMiner)
  miner(@Payload() req: CommandRequestOf<typeof ChainProvingMiner>): Promise<CommandResultOf<typeof ChainProvingMiner>> {
    return this.proving.miner(req.minerId);
  }
}
