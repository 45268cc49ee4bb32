// The collector's queries on the bus (fleet.cmd.stats-collector.<verb>): each handler hands the
// validated request to StatsQueries. Pushed batches come through PushServer (a scoped subject).
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { StatsAnomalies, StatsCalls, StatsTop, type CommandRequestOf, type CommandResultOf } from '@fleetvisor/contracts';
import type { FleetCommandPattern } from '@fleetvisor/messaging';
import { StatsQueries } from './query/stats-queries';

@Controller()
export class StatsCollectorController {
  constructor(@Inject(StatsQueries) private readonly queries: StatsQueries) {}

  @MessagePattern<FleetCommandPattern>(StatsCalls)
  calls(@Payload() req: CommandRequestOf<typeof StatsCalls>): Promise<CommandResultOf<typeof StatsCalls>> {
    return this.queries.calls(req);
  }

  @MessagePattern<FleetCommandPattern>(StatsTop)
  top(@Payload() req: CommandRequestOf<typeof StatsTop>): Promise<CommandResultOf<typeof StatsTop>> {
    return this.queries.top(req);
  }

  @MessagePattern<FleetCommandPattern>(StatsAnomalies)
  anomalies(@Payload() req: CommandRequestOf<typeof StatsAnomalies>): Promise<CommandResultOf<typeof StatsAnomalies>> {
    return this.queries.anomalies(req);
  }
}
