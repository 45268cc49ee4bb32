// What a runner answers to UpgradesList / UpgradeRetry (plain functions over its view):
// UpgradesList addressed (always an answer) or fleet-wide (an answer only when `host` is absent or
// names this runner); UpgradeRetry / UpgradeRollback only addressed to this host, their refusals
// as command failures.
import { CommandErrorCodes, type CommandRequestOf, type CommandResultOf, type ServiceUpgrades, type UpgradeRetry, type UpgradeRollback, type UpgradesList } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging/core';
import { UpgradeRequestError, type OperatorCommand } from '../upgrades/upgrade-coordinator';

export interface UpgradesView {
  host: string;
  upgrades(): ServiceUpgrades[];
  retryUpgrade(service: string, version: string | undefined, by: OperatorCommand | undefined): { host: string; service: string; lifted: string[] };
  rollbackUpgrade(service: string, version: string, by: OperatorCommand | undefined): Promise<CommandResultOf<typeof UpgradeRollback>>;
}

/** The verified signer of a command the bus checked (both commands here have a role). */
export function operatorOf(ctx: { identity?: { name: string } | undefined; commandId?: string | undefined }): OperatorCommand {
  if (!ctx.identity || !ctx.commandId) throw new CommandFailure('unauthorized', 'the command carries no verified identity');
  return { actor: ctx.identity.name, commandId: ctx.commandId };
}

function asFailure(e: unknown): unknown {
  return e instanceof UpgradeRequestError ? new CommandFailure(e.code === 'not_found' ? CommandErrorCodes.notFound : CommandErrorCodes.invalidRequest, e.message) : e;
}

export function answerUpgradesList(view: UpgradesView): CommandResultOf<typeof UpgradesList> {
  return { host: view.host, services: view.upgrades() };
}

export function answerFleetUpgradesList(view: UpgradesView, req: CommandRequestOf<typeof UpgradesList>): CommandResultOf<typeof UpgradesList> | undefined {
  if (req.host && req.host !== view.host) return undefined;
  return answerUpgradesList(view);
}

export function answerUpgradeRetry(view: UpgradesView, req: CommandRequestOf<typeof UpgradeRetry>, by: OperatorCommand): CommandResultOf<typeof UpgradeRetry> {
  try {
    return view.retryUpgrade(req.service, req.version, by);
  } catch (e) {
    throw asFailure(e);
  }
}

export async function answerUpgradeRollback(view: UpgradesView, req: CommandRequestOf<typeof UpgradeRollback>, by: OperatorCommand): Promise<CommandResultOf<typeof UpgradeRollback>> {
  try {
    return await view.rollbackUpgrade(req.service, req.version, by);
  } catch (e) {
    throw asFailure(e);
  }
}
