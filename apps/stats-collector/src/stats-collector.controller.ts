// The collector's commands on the bus: pushed batches on the scoped subject
// fleet.cmd.stats-collector.push.<source> (ADR 0006), handed to PushIntake with the subject's
// scope, and the queries (fleet.cmd.stats-collector.<verb>), handed validated to StatsQueries.
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { StatsAnomalies, StatsBands, StatsCalls, StatsPush, StatsTop, type CommandRequestOf, type CommandResultOf } from '@fleetvisor/contracts';
import { CommandFailure, type FleetCommandContext, type FleetCommandPattern } from '@fleetvisor/messaging';
import { StatsQueries } from './query/stats-queries';
import { StatsCollector } from './stats-collector';

@Controller()
export class StatsCollectorController {
  constructor(
    @Inject(StatsQueries) private readonly queries: StatsQueries,
    @Inject(StatsCollector) private readonly collector: StatsCollector,
  ) {}

  // Unchecked pattern ('<service>.<verb>'): the intake validates the body itself against the
  // published schema, so that every refusal is counted by its reason and logged once per source.
  @MessagePattern<FleetCommandPattern>({ command: `${StatsPush.service}.${StatsPush.verb}`, scope: 'scoped' })
  async push(@Payload() raw: unknown, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof StatsPush>> {
    const reply = await this.collector.intake.push(raw, ctx.scope ?? '');
    if (!reply.ok) throw new CommandFailure(reply.error.code, reply.error.message);
    return reply.result!;
  }

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

  @MessagePattern<FleetCommandPattern>(StatsBands)
  bands(@Payload() req: CommandRequestOf<typeof StatsBands>): Promise<CommandResultOf<typeof StatsBands>> {
    return this.queries.bands(req);
  }
}
