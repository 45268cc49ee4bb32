// The registry's commands on the bus (fleet.cmd.worker-registry.<verb>): each handler hands the
// validated request to WorkerRegistry. Reports come through ReportIntake, not here.
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
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
import type { FleetCommandPattern } from '@fleetvisor/messaging';
import { WorkerRegistryRuntime } from './registry/runtime';

export const WORKER_REGISTRY_RUNTIME = 'WORKER_REGISTRY_RUNTIME';

@Controller()
export class WorkerRegistryController {
  constructor(@Inject(WORKER_REGISTRY_RUNTIME) private readonly runtime: WorkerRegistryRuntime) {}

  @MessagePattern<FleetCommandPattern>(WorkerList)
  list(): CommandResultOf<typeof WorkerList> {
    return this.runtime.registry.list();
  }

  @MessagePattern<FleetCommandPattern>(WorkerListPage)
  listPage(@Payload() req: CommandRequestOf<typeof WorkerListPage>): CommandResultOf<typeof WorkerListPage> {
    return this.runtime.registry.listPage(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerInfo)
  info(@Payload() req: CommandRequestOf<typeof WorkerInfo>): CommandResultOf<typeof WorkerInfo> {
    return this.runtime.registry.info(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerErrors)
  errors(): CommandResultOf<typeof WorkerErrors> {
    return this.runtime.registry.errors();
  }

  @MessagePattern<FleetCommandPattern>(WorkerHistory)
  history(@Payload() req: CommandRequestOf<typeof WorkerHistory>): Promise<CommandResultOf<typeof WorkerHistory>> {
    return this.runtime.registry.history(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerPause)
  pause(@Payload() req: CommandRequestOf<typeof WorkerPause>): Promise<CommandResultOf<typeof WorkerPause>> {
    return this.runtime.registry.pause(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerResume)
  resume(@Payload() req: CommandRequestOf<typeof WorkerResume>): Promise<CommandResultOf<typeof WorkerResume>> {
    return this.runtime.registry.resume(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerDrain)
  drain(@Payload() req: CommandRequestOf<typeof WorkerDrain>): Promise<CommandResultOf<typeof WorkerDrain>> {
    return this.runtime.registry.drain(req);
  }

  @MessagePattern<FleetCommandPattern>(WorkerRemove)
  remove(@Payload() req: CommandRequestOf<typeof WorkerRemove>): Promise<CommandResultOf<typeof WorkerRemove>> {
    return this.runtime.registry.remove(req);
  }
}
