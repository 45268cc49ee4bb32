// The event intake on the Fleet transport: a scoped command (<root>.cmd.event-intake.append.<host>)
// in the service's queue group, so every central service that enables it (FleetCoreModule's
// `eventIntake`) shares the load. The handler only hands over to the plain EventIntake.
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { EventIntakeAppend } from '@fleetvisor/contracts';
import { EventIntake, type IntakeRequest, type IntakeResult } from '../event-intake';
import type { FleetCommandContext, FleetCommandPattern } from './fleet-transport';

@Controller()
export class EventIntakeController {
  constructor(@Inject(EventIntake) private readonly intake: EventIntake) {}

  @MessagePattern<FleetCommandPattern>({ command: EventIntakeAppend, scope: 'scoped' })
  append(@Payload() request: IntakeRequest, @Ctx() ctx: FleetCommandContext): Promise<IntakeResult> {
    return this.intake.append(request, { subject: ctx.subject, ...(ctx.scope === undefined ? {} : { scope: ctx.scope }) });
  }
}
