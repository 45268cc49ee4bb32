// The chain-watcher's commands on the bus (fleet.cmd.chain-watcher.<verb>): each handler hands the
// validated request to ChainWatcher.
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ChainLeaderStatus, ChainStatus, ChainVersionEvent, type ChainStatusEntry, type CommandRequestOf, type CommandResultOf } from '@fleetvisor/contracts';
import type { FleetCommandPattern } from '@fleetvisor/messaging';
import { ChainWatcher } from './chain-watcher';

@Controller()
export class ChainWatcherController {
  constructor(@Inject(ChainWatcher) private readonly watcher: ChainWatcher) {}

  /** Any replica answers, with each chain as its leader sees it. */
  @MessagePattern<FleetCommandPattern>(ChainStatus)
  status(@Payload() req: CommandRequestOf<typeof ChainStatus>): Promise<CommandResultOf<typeof ChainStatus>> {
    return this.watcher.status(req.chainId);
  }

  /**
   * Between replicas: every replica hears it; the one leading the chain answers, the others
   * return nothing, which a broadcast command leaves unanswered.
   */
  @MessagePattern<FleetCommandPattern>({ command: ChainLeaderStatus, scope: 'broadcast' })
  leaderStatus(@Payload() req: CommandRequestOf<typeof ChainLeaderStatus>): ChainStatusEntry | undefined {
    return this.watcher.localStatus(req.chainId);
  }

  /** Any replica answers, from the log: how a host (no database credentials) catches up on its chain's version. */
  @MessagePattern<FleetCommandPattern>(ChainVersionEvent)
  versionEvent(@Payload() req: CommandRequestOf<typeof ChainVersionEvent>): Promise<CommandResultOf<typeof ChainVersionEvent>> {
    return this.watcher.versionEvent(req.chainId);
  }
}
