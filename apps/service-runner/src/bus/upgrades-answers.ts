// What a runner answers to UpgradesList / UpgradeRetry (plain functions over its view):
// UpgradesList addressed (always an answer) or fleet-wide (an answer only when `host` is absent or
// names this runner); UpgradeRetry only addressed to this host, its errors as command failures.
import { CommandErrorCodes, type CommandRequestOf, type CommandResultOf, type ServiceUpgrades, type UpgradeRetry, type UpgradesList } from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging/core';
import { UpgradeRequestError } from '../upgrades/upgrade-coordinator';

export interface UpgradesView {
  host: string;
  upgrades(): ServiceUpgrades[];
  retryUpgrade(service: string, version: string | undefined, actor: string | undefined): { host: string; service: string; lifted: string[] };
}

export function answerUpgradesList(view: UpgradesView): CommandResultOf<typeof UpgradesList> {
  return { host: view.host, services: view.upgrades() };
}

export function answerFleetUpgradesList(view: UpgradesView, req: CommandRequestOf<typeof UpgradesList>): CommandResultOf<typeof UpgradesList> | undefined {
  if (req.host && req.host !== view.host) return undefined;
  return answerUpgradesList(view);
}

export function answerUpgradeRetry(view: UpgradesView, req: CommandRequestOf<typeof UpgradeRetry>): CommandResultOf<typeof UpgradeRetry> {
  try {
    return view.retryUpgrade(req.service, req.version, req.actor);
  } catch (e) {
    if (e instanceof UpgradeRequestError) throw new CommandFailure(e.code === 'not_found' ? CommandErrorCodes.notFound : CommandErrorCodes.invalidRequest, e.message);
    throw e;
  }
}
