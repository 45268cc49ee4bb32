// The shell around decideRollout (ADR 0009): reads the chain's rollout stream, decides, appends with
// the version it read (handleCommand: a replica that decided on a stale state is refused by the log
// and decides again), and answers. Any replica serves the runners' admission requests and the
// operators' resume / abort: the expected version serializes them. Only the chain's leader runs
// drive(): it reads what the admitted hosts' service streams say (ServiceUpgraded / UpgradeFailed
// of the upgrade each host started after its admission), records RolloutHostHealthy or
// RolloutHalted, and applies the clock (healthy_deadline, completion).
import {
  newEventFor,
  ServiceUpgraded,
  streamName,
  UpgradeFailed,
  UpgradeStarted,
  type CommandRequestOf,
  type ChainRolloutAdmit,
  type EventData,
  type EventEnvelope,
  type RecordedEvent,
  type RolloutView,
  type VersionChanged,
} from '@fleetvisor/contracts';
import { handleCommand, type CommandHandlerStore } from '@fleetvisor/event-store';
import { CommandFailure } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import { chainLogStream } from '../recording/chain-log';
import type { RolloutPolicies } from './rollout-policy';
import { decideRollout, emptyRollout, evolveRollout, rolloutView, type AdmitReply, type HostOutcome, type LatestVersion, type RolloutInput, type RolloutState } from './rollout-state';

export const rolloutStream = (chainId: string): string => streamName('chain', `${chainId}/rollout`);

/**
 * How much older than its admission (by the coordinator's clock) a host's UpgradeStarted may be
 * and still count as the admitted attempt: the host's clock stamps it, and clocks differ.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

export interface RolloutCoordinatorDeps {
  store: CommandHandlerStore;
  policies: RolloutPolicies;
  /** This replica's host (metadata of what it records). */
  host: string;
  logger: Logger;
  now?: () => Date;
}

/** A verified operator's command (its signer is the actor, its id the cause). */
export interface RolloutOrigin {
  actor: string;
  commandId: string;
}

export class RolloutCoordinator {
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly deps: RolloutCoordinatorDeps) {
    this.log = deps.logger.child({ component: 'rollout' });
    this.now = deps.now ?? (() => new Date());
  }

  /** A runner of `host` asks to upgrade `req.services` to `req.version`. */
  async admit(host: string, req: CommandRequestOf<typeof ChainRolloutAdmit>): Promise<AdmitReply> {
    const latest = await this.latestVersion(req.chainId);
    const policy = this.deps.policies.of(req.chainId);
    let reply: AdmitReply | undefined;
    await this.decide(req.chainId, (now) => ({ kind: 'admit', host, version: req.version, services: req.services, latest, policy, now }), { actor: 'chain-watcher' }, (d) => {
      reply = d.reply;
    });
    if (reply!.decision === 'admitted') this.log.info({ chainId: req.chainId, host, wave: reply!.wave }, 'host admitted');
    else this.log.debug({ chainId: req.chainId, host, decision: reply!.decision, reason: reply!.reason }, 'host not admitted');
    return reply!;
  }

  async status(chainId: string): Promise<RolloutView> {
    const { state } = await this.read(chainId);
    return rolloutView(state, this.now());
  }

  async resume(chainId: string, by: RolloutOrigin): Promise<RolloutView> {
    return this.operatorCommand(chainId, { kind: 'resume', actor: by.actor }, by);
  }

  async abort(chainId: string, by: RolloutOrigin, reason: string): Promise<RolloutView> {
    return this.operatorCommand(chainId, { kind: 'abort', actor: by.actor, reason }, by);
  }

  /**
   * One step of the chain's leader: the outcome of every admitted host that has not reported yet,
   * then the clock. Returns the state after it.
   */
  async tick(chainId: string): Promise<RolloutState> {
    const { state } = await this.read(chainId);
    if (state.status !== 'running' && state.status !== 'halted') return state;
    for (const h of state.hosts.values()) {
      if (h.state !== 'admitted') continue;
      const outcome = await this.outcomeOf(h.host, h.services, Date.parse(h.since));
      if (!outcome) continue;
      await this.decide(chainId, (now) => ({ kind: 'observe', host: h.host, outcome, now }), { actor: 'chain-watcher' });
      if (outcome.kind === 'failed') this.log.warn({ chainId, host: h.host, reason: outcome.reason }, 'rollout halted: a host failed its upgrade');
      else this.log.info({ chainId, host: h.host }, 'rollout: host healthy');
    }
    const after = await this.decide(chainId, (now) => ({ kind: 'tick', now }), { actor: 'chain-watcher' });
    if (after.status === 'completed') this.log.info({ chainId, rolloutId: after.rolloutId }, 'rollout completed');
    return after;
  }

  /** The leader's loop for one chain, every `intervalMs` until stopped. */
  drive(chainId: string, intervalMs: number): { stop(): Promise<void> } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    const step = (): void => {
      running = this.tick(chainId)
        .then(() => undefined)
        .catch((e: unknown) => this.log.warn({ chainId, err: (e as Error).message }, 'rollout step failed; tried again at the next one'))
        .finally(() => {
          if (!stopped) timer = setTimeout(step, intervalMs);
        });
    };
    step();
    return {
      stop: async () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        await running;
      },
    };
  }

  private async operatorCommand(chainId: string, input: RolloutInput, by: RolloutOrigin): Promise<RolloutView> {
    let refusal: string | undefined;
    const state = await this.decide(chainId, () => input, { actor: by.actor, causationId: by.commandId }, (d) => {
      refusal = d.refusal;
    });
    if (refusal) throw new CommandFailure('invalid_request', refusal);
    this.log.info({ chainId, actor: by.actor, what: input.kind }, `rollout ${input.kind === 'abort' ? 'aborted' : 'resumed'}`);
    return rolloutView(state, this.now());
  }

  private async read(chainId: string): Promise<{ state: RolloutState; version: number }> {
    const { events, currentVersion } = await this.deps.store.readStream(rolloutStream(chainId));
    return { state: events.reduce((s: RolloutState, e: RecordedEvent) => evolveRollout(s, e), emptyRollout(chainId)), version: currentVersion };
  }

  private async decide(
    chainId: string,
    input: (now: Date) => RolloutInput,
    metadata: { actor: string; causationId?: string },
    seen?: (d: ReturnType<typeof decideRollout>) => void,
  ): Promise<RolloutState> {
    const result = await handleCommand<RolloutState>(
      this.deps.store,
      rolloutStream(chainId),
      (state) => {
        const now = this.now();
        const d = decideRollout(state, input(now));
        seen?.(d);
        return d.events.map(
          (e): EventEnvelope =>
            newEventFor(e.def, e.data as never, { host: this.deps.host, actor: metadata.actor, ...(metadata.causationId ? { causationId: metadata.causationId } : {}) }, { occurredAt: now }),
        );
      },
      { evolve: evolveRollout, initialState: () => emptyRollout(chainId) },
    );
    return result.state;
  }

  private async latestVersion(chainId: string): Promise<LatestVersion | undefined> {
    const { events } = await this.deps.store.readStream(chainLogStream(chainId));
    const last = events.findLast((e) => e.type === 'VersionChanged');
    if (!last) return undefined;
    const d = last.data as EventData<typeof VersionChanged>;
    return { id: last.id, height: d.height, version: d.current };
  }

  /**
   * What the host's service streams say of the upgrade it started after its admission: failed as
   * soon as one service's attempt failed; healthy once every service's attempt ended healthy.
   */
  private async outcomeOf(host: string, services: readonly { service: string; toVersion: string }[], admittedAt: number): Promise<HostOutcome | undefined> {
    let healthy = 0;
    for (const s of services) {
      const { events } = await this.deps.store.readStream(streamName('service', `${host}/${s.service}`));
      const started = events.findLast(
        (e) => e.type === UpgradeStarted.type && (e.data as EventData<typeof UpgradeStarted>).toVersion === s.toVersion && Date.parse(e.occurredAt) >= admittedAt - CLOCK_SKEW_ALLOWANCE_MS,
      );
      if (!started) continue;
      const attempt = events.filter((e) => e.streamVersion > started.streamVersion && e.metadata.correlationId === started.metadata.correlationId);
      const failed = attempt.find((e) => e.type === UpgradeFailed.type);
      if (failed) {
        const f = failed.data as EventData<typeof UpgradeFailed>;
        return { kind: 'failed', service: s.service, reason: `UpgradeFailed ${f.fromVersion} -> ${f.toVersion} at ${f.stage}: ${f.reason}` };
      }
      if (attempt.some((e) => e.type === ServiceUpgraded.type)) healthy++;
    }
    return healthy === services.length ? { kind: 'healthy' } : undefined;
  }
}
