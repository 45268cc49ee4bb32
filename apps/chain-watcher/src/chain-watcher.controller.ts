// The chain-watcher's commands on the bus (fleet.cmd.chain-watcher.<verb>): each handler hands the
// validated request to ChainWatcher.
import { Controller, Inject, Optional } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  ChainLeaderStatus,
  ChainRolloutAbort,
  ChainRolloutAdmit,
  ChainRolloutResume,
  ChainRolloutStatus,
  ChainStatus,
  ChainVersionEvent,
  type ChainStatusEntry,
  type CommandRequestOf,
  type CommandResultOf,
} from '@fleetvisor/contracts';
import { CommandFailure, type FleetCommandContext, type FleetCommandPattern } from '@fleetvisor/messaging';
import { ChainWatcher } from './chain-watcher';
import { ProvingWatcher } from './proving/proving-watcher';
import { RolloutCoordinator, type RolloutOrigin } from './rollout/rollout-coordinator';

/** The verified signer of an operator's command (the bus checked its signature and role). */
function signedBy(ctx: FleetCommandContext): RolloutOrigin {
  const { identity, commandId } = ctx;
  if (!identity || !commandId) throw new CommandFailure('unauthorized', 'the command carries no verified identity');
  return { actor: identity.name, commandId };
}

@Controller()
export class ChainWatcherController {
  constructor(
    @Inject(ChainWatcher) private readonly watcher: ChainWatcher,
    @Inject(RolloutCoordinator) private readonly rollouts: RolloutCoordinator,
    @Optional() @Inject(ProvingWatcher) private readonly proving?: ProvingWatcher,
  ) {}

  /** Any replica answers, with each chain as its leader sees it (the Filecoin chains too, when watched). */
  @MessagePattern<FleetCommandPattern>(ChainStatus)
  async status(@Payload() req: CommandRequestOf<typeof ChainStatus>): Promise<CommandResultOf<typeof ChainStatus>> {
    if (!this.proving) return this.watcher.status(req.chainId);
    if (req.chainId !== undefined && this.proving.isWatched(req.chainId)) return { chains: [], filecoin: await this.proving.chainStatus(req.chainId) };
    const [lava, filecoin] = await Promise.all([this.watcher.status(req.chainId), req.chainId === undefined ? this.proving.chainStatus() : Promise.resolve([])]);
    return { ...lava, filecoin };
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

  /**
   * A runner asks for admission for its own host: the host is the subject's last token, which
   * only that host's NATS credential may publish (ADR 0006, 0009); the body names no host.
   */
  @MessagePattern<FleetCommandPattern>({ command: ChainRolloutAdmit, scope: 'scoped' })
  rolloutAdmit(@Payload() req: CommandRequestOf<typeof ChainRolloutAdmit>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof ChainRolloutAdmit>> {
    this.watched(req.chainId);
    if (!ctx.scope) throw new CommandFailure('forbidden', 'rollout-admit names no host in its subject');
    return this.rollouts.admit(ctx.scope, req);
  }

  @MessagePattern<FleetCommandPattern>(ChainRolloutStatus)
  async rolloutStatus(@Payload() req: CommandRequestOf<typeof ChainRolloutStatus>): Promise<CommandResultOf<typeof ChainRolloutStatus>> {
    const ids = req.chainId ? [this.watched(req.chainId)] : this.watcher.chainIds();
    return { rollouts: await Promise.all(ids.map((id) => this.rollouts.status(id))) };
  }

  private watched(chainId: string): string {
    return watchedChain(this.watcher, chainId);
  }
}

/**
 * Operators' rollout commands, signed (role operate) and recorded with the signer as actor. Served
 * only by a replica given the fleet's trust roots (FLEETVISOR_TRUST_ROOT): without them nobody could
 * be verified.
 */
@Controller()
export class RolloutOperatorController {
  constructor(
    @Inject(ChainWatcher) private readonly watcher: ChainWatcher,
    @Inject(RolloutCoordinator) private readonly rollouts: RolloutCoordinator,
  ) {}

  @MessagePattern<FleetCommandPattern>(ChainRolloutResume)
  rolloutResume(@Payload() req: CommandRequestOf<typeof ChainRolloutResume>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof ChainRolloutResume>> {
    return this.rollouts.resume(this.watched(req.chainId), signedBy(ctx));
  }

  @MessagePattern<FleetCommandPattern>(ChainRolloutAbort)
  rolloutAbort(@Payload() req: CommandRequestOf<typeof ChainRolloutAbort>, @Ctx() ctx: FleetCommandContext): Promise<CommandResultOf<typeof ChainRolloutAbort>> {
    const by = signedBy(ctx);
    return this.rollouts.abort(this.watched(req.chainId), by, req.reason ?? `fleetvisor upgrades rollout abort by ${by.actor}`);
  }

  private watched(chainId: string): string {
    return watchedChain(this.watcher, chainId);
  }
}

function watchedChain(watcher: ChainWatcher, chainId: string): string {
  if (!watcher.chainIds().includes(chainId)) throw new CommandFailure('not_found', `chain ${chainId} is not watched (watched: ${watcher.chainIds().join(', ')})`);
  return chainId;
}
