// The runner's side of a fleet-wide rollout (ADR 0009): before it upgrades, a coordinated runner
// asks the chain-watcher for admission on its host's scoped subject
// (fleet.cmd.chain-watcher.rollout-admit.<host>). Only an `admitted` answer lets the upgrade
// happen. Anything else (wait, refused, no answer because the coordinator or NATS is down) leaves
// the services as they are: the runner asks again after the delay the coordinator named, or with
// capped exponential backoff, and `services list` shows what it waits for.
import type { ChainRolloutAdmit, CommandReply, CommandResultOf, PendingAdmission, ProtocolVersion } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';

export type AdmitResult = CommandResultOf<typeof ChainRolloutAdmit>;

export interface AdmissionRequest {
  chainId: string;
  version: ProtocolVersion;
  services: { service: string; toVersion: string }[];
}

export interface RolloutAdmissionOptions {
  chainId: string;
  /** Sends the request on this host's scoped subject; a transport failure is a reply with ok false. */
  ask: (req: AdmissionRequest) => Promise<CommandReply<AdmitResult>>;
  /** Called when it is time to ask again (the upgrade coordinator's reconcile). */
  retry: () => void;
  logger: Logger;
  retryInitialMs: number;
  retryMaxMs: number;
  now?: () => number;
}

/** What UpgradeCoordinator asks before an upgrade pass restarts anything. */
export interface AdmissionGate {
  admit(version: ProtocolVersion, services: { service: string; toVersion: string }[]): Promise<boolean>;
}

export class RolloutAdmission implements AdmissionGate {
  private pending: (PendingAdmission & { key: string; failures: number }) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly o: RolloutAdmissionOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.logger.child({ component: 'rollout-admission' });
  }

  /**
   * True when the coordinator admitted this host for this version now. Asked on every pass that has
   * something to upgrade, never remembered: an operator's `upgrades retry` after a failure asks
   * again, so it cannot slip past a halted rollout (the coordinator answers an admitted host
   * `admitted` again, so a runner restarted mid-upgrade goes on).
   */
  async admit(version: ProtocolVersion, services: { service: string; toVersion: string }[]): Promise<boolean> {
    const key = JSON.stringify([version, services.map((s) => [s.service, s.toVersion]).sort()]);
    const reply = await this.o.ask({ chainId: this.o.chainId, version, services }).catch(
      (e: unknown): CommandReply<AdmitResult> => ({ ok: false, error: { code: 'unavailable', message: (e as Error).message } }),
    );
    if (reply.ok && reply.result?.decision === 'admitted') {
      this.clear();
      this.log.info({ wave: reply.result.wave, rolloutId: reply.result.rolloutId }, 'rollout: admitted, upgrading');
      return true;
    }
    const failures = this.pending?.key === key ? this.pending.failures + 1 : 1;
    const reason = reply.ok
      ? `${reply.result?.decision ?? 'no answer'}: ${reply.result?.reason ?? 'the coordinator gave no reason'}`
      : `no answer from the rollout coordinator (${reply.error.code}: ${reply.error.message})`;
    const named = reply.ok ? reply.result?.retryAfterMs : undefined;
    const backoff = Math.min(this.o.retryMaxMs, this.o.retryInitialMs * 2 ** Math.min(failures - 1, 20));
    const delay = Math.max(100, Math.min(named ?? backoff, this.o.retryMaxMs));
    const t = this.now();
    this.pending = {
      key,
      failures,
      reason: reason.slice(0, 2000),
      attempts: failures,
      since: this.pending?.key === key ? this.pending.since : new Date(t).toISOString(),
      nextRetryAt: new Date(t + delay).toISOString(),
      services: services.map((s) => `${s.service}@${s.toVersion}`).join(', ').slice(0, 2000),
    };
    if (failures === 1 || !reply.ok) this.log.warn({ reason, retryInMs: delay }, 'rollout: not admitted; services stay on their version');
    this.schedule(delay);
    return false;
  }

  /** What `services list` shows while the runner waits (undefined when it does not). */
  pendingAdmission(): PendingAdmission | undefined {
    if (!this.pending) return undefined;
    const { key: _key, failures: _failures, ...shown } = this.pending;
    return shown;
  }

  /** The coordinator's answer no longer matters (nothing to upgrade any more). */
  clear(): void {
    this.pending = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.o.retry();
    }, delay);
    this.timer.unref?.();
  }
}
