// The runner on the bus. ServicesList / ServicesStatus / UpgradesList are served twice over:
// addressed to this host (<root>.cmd.service-runner.<host>.<verb>) and fleet-wide
// (<root>.cmd.service-runner.<verb>, every runner hears it and answers only for itself);
// UpgradesShow / UpgradeRetry / UpgradeRollback / ServiceControl / ServiceLogs only addressed. VersionChanged of the runner's chain comes
// through a durable consumer named after the host. Each handler hands over to the plain logic.
import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { ServiceControl, ServiceLogs, ServicesList, ServicesStatus, UpgradeRetry, UpgradeRollback, UpgradesList, UpgradesShow, type CommandRequestOf, type CommandResultOf, type EventEnvelope } from '@fleetvisor/contracts';
import type { FleetCommandContext, FleetCommandPattern, FleetEventPattern } from '@fleetvisor/messaging';
import { answerControl, answerFleetList, answerFleetStatus, answerList, answerLogs, answerStatus } from './bus/services-answers';
import { answerFleetUpgradesList, answerUpgradeRetry, answerUpgradeRollback, answerUpgradesList, operatorOf } from './bus/upgrades-answers';
import type { Runner } from './runner';
import { answerUpgradesShow } from './upgrades/upgrade-history';

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

  /** Addressed to this host only (role operate, signed): the operator is recorded as the actor. */
  @MessagePattern<FleetCommandPattern>({ command: ServiceControl, scope: 'instance' })
  control(@Payload() req: CommandRequestOf<typeof ServiceControl>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof ServiceControl>> {
    return answerControl(this.runner, req, operatorOf(ctx).actor);
  }

  @MessagePattern<FleetCommandPattern>({ command: ServiceLogs, scope: 'instance' })
  logs(@Payload() req: CommandRequestOf<typeof ServiceLogs>): CommandResultOf<typeof ServiceLogs> {
    return answerLogs(this.runner, req);
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

  /** Addressed to this host only: one service's versions and history (a query: no role). */
  @MessagePattern<FleetCommandPattern>({ command: UpgradesShow, scope: 'instance' })
  upgradesShow(@Payload() req: CommandRequestOf<typeof UpgradesShow>): Promise<CommandResultOf<typeof UpgradesShow>> {
    return answerUpgradesShow(this.runner, req);
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
  async versionChanged(@Payload() event: EventEnvelope): Promise<void> {
    // Acked once the gate has decided (acted, refused, or holding it for its node to confirm).
    await this.runner.onVersionChanged(event);
  }
}
