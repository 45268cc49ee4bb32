// The registry's commands on the bus (fleet.cmd.worker-registry.<verb>): each handler hands the
// validated request to its use case, WorkerQueries or WorkerControl. Reports come through
// ReportIntake, not here. Runner hosts' heartbeats and the hosts query go to HostLiveness.
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  HostHeartbeat,
  HostsList,
  WorkerDrain,
  WorkerErrors,
  WorkerHistory,
  WorkerInfo,
  WorkerList,
  WorkerListPage,
  WorkerPause,
  WorkerRemove,
  WorkerResume,
  type CommandRequestOf,
  type CommandResultOf,
} from '@fleetvisor/contracts';
import { CommandFailure, type FleetCommandContext, type FleetCommandPattern } from '@fleetvisor/messaging';
import { HostLiveness } from './registry/host-liveness';
import { WorkerControl, type CommandOrigin } from './registry/worker-control';
import { WorkerQueries } from './registry/worker-queries';

/** The verified signer of a command the bus checked (every mutating command has a role). */
function signedBy(ctx: FleetCommandContext): CommandOrigin {
  const { identity, commandId, signedAt } = ctx;
  if (!identity || !commandId || signedAt === undefined) throw new CommandFailure('unauthorized', 'the command carries no verified identity');
  return { actor: identity.name, commandId, signedAt };
}

@Controller()
export class WorkerRegistryController {
  constructor(
    @Inject(WorkerQueries) private readonly queries: WorkerQueries,
    @Inject(WorkerControl) private readonly control: WorkerControl,
    @Inject(HostLiveness) private readonly hosts: HostLiveness,
  ) {}

  @MessagePattern<FleetCommandPattern>({ command: HostHeartbeat, scope: 'scoped' })
  hostHeartbeat(@Payload() req: CommandRequestOf<typeof HostHeartbeat>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof HostHeartbeat>> {
    return this.hosts.heartbeat(req, ctx.scope);
  }

  @MessagePattern<FleetCommandPattern>(HostsList)
  hostsList(): CommandResultOf<typeof HostsList> {
    return this.hosts.list();
  }

  @MessagePattern<FleetCommandPattern>(WorkerList)
  list(): CommandResultOf<typeof WorkerList> {
    return this.queries.list();
  }

  @MessagePattern<FleetCommandPattern>(WorkerListPage)
  listPage(@Payload() req: CommandRequestOf<typeof WorkerListPage>): CommandResultOf<typeof WorkerListPage> {
    return this.queries.listPage(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerInfo)
  info(@Payload() req: CommandRequestOf<typeof WorkerInfo>): CommandResultOf<typeof WorkerInfo> {
    return this.queries.info(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerErrors)
  errors(): CommandResultOf<typeof WorkerErrors> {
    return this.queries.errors();
  }

  @MessagePattern<FleetCommandPattern>(WorkerHistory)
  history(@Payload() req: CommandRequestOf<typeof WorkerHistory>): Promise<CommandResultOf<typeof WorkerHistory>> {
    return this.queries.history(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerPause)
  pause(@Payload() req: CommandRequestOf<typeof WorkerPause>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof WorkerPause>> {
    return this.control.pause(req, signedBy(ctx));
  }

  @MessagePattern<FleetCommandPattern>(WorkerResume)
  resume(@Payload() req: CommandRequestOf<typeof WorkerResume>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof WorkerResume>> {
    return this.control.resume(req, signedBy(ctx));
  }

  @MessagePattern<FleetCommandPattern>(WorkerDrain)
  drain(@Payload() req: CommandRequestOf<typeof WorkerDrain>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof WorkerDrain>> {
    return this.control.drain(req, signedBy(ctx));
  }

  @MessagePattern<FleetCommandPattern>(WorkerRemove)
  remove(@Payload() req: CommandRequestOf<typeof WorkerRemove>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof WorkerRemove>> {
    return this.control.remove(req, signedBy(ctx));
  }
}
