// The runner on the bus. ServicesList / ServicesStatus / UpgradesList are served twice over:
// addressed to this host (<root>.cmd.service-runner.<host>.<verb>) and fleet-wide
// (<root>.cmd.service-runner.<verb>, every runner hears it and answers only for itself);
// UpgradeRetry / UpgradeRollback only addressed. VersionChanged of the runner's chain comes
// through a durable consumer named after the host. Each handler hands over to the plain logic.
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { ServicesList, ServicesStatus, UpgradeRetry, UpgradeRollback, UpgradesList, type CommandRequestOf, type CommandResultOf, type EventEnvelope } from '@fleetvisor/contracts';
import type { FleetCommandContext, FleetCommandPattern, FleetEventPattern } from '@fleetvisor/messaging';
import { answerFleetList, answerFleetStatus, answerList, answerStatus } from './bus/services-answers';
import { answerFleetUpgradesList, answerUpgradeRetry, answerUpgradeRollback, answerUpgradesList, operatorOf } from './bus/upgrades-answers';
import type { Runner } from './runner';

export const RUNNER = 'RUNNER';

@Controller()
export class ServicesController {
  constructor(@Inject(RUNNER) private readonly runner: Runner) {}

  @MessagePattern<FleetCommandPattern>({ command: ServicesList, scope: 'instance' })
  list(@Payload() req: CommandRequestOf<typeof ServicesList>): CommandResultOf<typeof ServicesList> {
    return answerList(this.runner, req);
  }

  @MessagePattern<FleetCommandPattern>({ command: ServicesStatus, scope: 'instance' })
  status(@Payload() req: CommandRequestOf<typeof ServicesStatus>): CommandResultOf<typeof ServicesStatus> {
    return answerStatus(this.runner, req);
  }

  @MessagePattern<FleetCommandPattern>({ command: ServicesList, scope: 'broadcast' })
  fleetList(@Payload() req: CommandRequestOf<typeof ServicesList>): CommandResultOf<typeof ServicesList> | undefined {
    return answerFleetList(this.runner, req);
  }

  @MessagePattern<FleetCommandPattern>({ command: ServicesStatus, scope: 'broadcast' })
  fleetStatus(@Payload() req: CommandRequestOf<typeof ServicesStatus>): CommandResultOf<typeof ServicesStatus> | undefined {
    return answerFleetStatus(this.runner, req);
  }
}

/** Only for a runner that follows a chain (`start`; `wrap` follows none). */
@Controller()
export class VersionController {
  constructor(@Inject(RUNNER) private readonly runner: Runner) {}

  @MessagePattern<FleetCommandPattern>({ command: UpgradesList, scope: 'instance' })
  upgradesList(): CommandResultOf<typeof UpgradesList> {
    return answerUpgradesList(this.runner);
  }

  @MessagePattern<FleetCommandPattern>({ command: UpgradesList, scope: 'broadcast' })
  fleetUpgradesList(@Payload() req: CommandRequestOf<typeof UpgradesList>): CommandResultOf<typeof UpgradesList> | undefined {
    return answerFleetUpgradesList(this.runner, req);
  }

  /** Addressed to this host only: an operator retries one host's service, never the fleet's at once. */
  @MessagePattern<FleetCommandPattern>({ command: UpgradeRetry, scope: 'instance' })
  upgradeRetry(@Payload() req: CommandRequestOf<typeof UpgradeRetry>, @Ctx() ctx: FleetCommandContext): CommandResultOf<typeof UpgradeRetry> {
    return answerUpgradeRetry(this.runner, req, operatorOf(ctx));
  }

  @MessagePattern<FleetCommandPattern>({ command: UpgradeRollback, scope: 'instance' })
  upgradeRollback(@Payload() req: CommandRequestOf<typeof UpgradeRollback>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof UpgradeRollback>> {
    return answerUpgradeRollback(this.runner, req, operatorOf(ctx));
  }

  @EventPattern<FleetEventPattern>({ type: 'VersionChanged', streamId: '{chainId}', durable: 'service-runner-{host}' })
  versionChanged(@Payload() event: EventEnvelope): void {
    this.runner.onVersionChanged(event);
  }
}
