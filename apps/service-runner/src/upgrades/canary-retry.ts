// The canary retry policy at work (ADR 0008): at each interval, for each service whose target is
// quarantined, obtain that version's binary (installed, else downloaded/built as for an upgrade:
// a release that was not published yet gets its chance too), check it reports its version, start
// it as a canary (canary-process.ts) and record CanaryChecked. Healthy: the quarantine is lifted
// and the coordinator's normal upgrade runs. Unhealthy: it stays quarantined until the next check.
// One canary at a time per runner (a canary costs a process start and a health window); the check
// times are kept in the state file, so a restart neither skips nor repeats a check early.
import { CanaryChecked, type UpgradeStage } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { EventRecorder } from '../events/event-recorder';
import type { ServiceDefinition } from '../home/runner-home';
import { canaryCandidates, nextCheckAt, type CanaryCandidate } from './canary-policy';
import type { CanaryRun, CanaryStarter } from './canary-process';
import type { UpgradeStateStore } from './upgrade-state';

export interface CanaryRetryOptions {
  everyMs: number;
  services: () => ReadonlyMap<string, { def: ServiceDefinition }>;
  /** The version a service's link selects. */
  linked: (service: string) => string | undefined;
  state: Pick<UpgradeStateStore, 'get' | 'update'>;
  /** The version's binary, installed or obtained as an upgrade would; throws with the stage. */
  obtain: (version: string, def: ServiceDefinition) => Promise<{ path: string } | { stage: UpgradeStage; reason: string }>;
  canary: CanaryStarter;
  /** What the canary runs with beyond the binary: environment, password, probe, windows. */
  runSettings: (def: ServiceDefinition) => Omit<CanaryRun, 'service' | 'version' | 'binaryPath' | 'def'>;
  /** A healthy canary: lift the quarantine and let the normal upgrade proceed. */
  lift: (service: string, version: string, reason: string) => void;
  recorder: Pick<EventRecorder, 'host' | 'record'>;
  logger: Logger;
  now?: () => number;
  /** How often due checks are looked for (default: a second, or the interval when shorter). */
  tickMs?: number;
}

export interface CanarySchedule {
  version: string;
  /** ISO time of the next canary. */
  at: string;
  /** What the last canary showed. */
  lastCheck?: string;
}

export class CanaryRetry {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopped = false;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(private readonly o: CanaryRetryOptions) {
    this.log = o.logger.child({ component: 'canary-retry' });
    this.now = o.now ?? Date.now;
  }

  start(): void {
    const tick = this.o.tickMs ?? Math.min(1_000, this.o.everyMs);
    this.timer = setInterval(() => void this.tick(), tick);
    this.timer.unref();
  }

  /** Every service's quarantined target under the policy, soonest first. */
  candidates(): CanaryCandidate[] {
    const st = this.o.state.get();
    const services = [...this.o.services()].map(([name, { def }]) => ({ name, role: def.role, linked: this.o.linked(name), upgrading: st.inProgress[name] !== undefined }));
    return canaryCandidates(services, { protocol: st.protocol?.version, quarantine: st.quarantine, checks: st.canary, everyMs: this.o.everyMs });
  }

  /** The next canary of a service's quarantined version (for `upgrades list|show` and `services list`). */
  scheduleOf(service: string, version?: string): CanarySchedule | undefined {
    const c = this.candidates().find((x) => x.service === service && (version === undefined || x.version === version));
    if (!c) return undefined;
    const last = this.o.state.get().canary[service]?.[c.version];
    return { version: c.version, at: new Date(c.dueAt).toISOString(), ...(last ? { lastCheck: `${last.outcome} at ${last.at}: ${last.reason}`.slice(0, 2000) } : {}) };
  }

  /** Runs the check that is due, if any and none runs (resolves when it is done). */
  tick(): Promise<void> {
    if (this.stopped || this.current) return this.current ?? Promise.resolve();
    const due = this.candidates().find((c) => c.dueAt <= this.now());
    if (!due) return Promise.resolve();
    this.current = this.check(due)
      .catch((e) => this.log.error({ service: due.service, version: due.version, err: (e as Error).message }, 'canary check failed to run'))
      .finally(() => (this.current = undefined));
    return this.current;
  }

  private async check(c: CanaryCandidate): Promise<void> {
    const entry = this.o.services().get(c.service);
    if (!entry) return;
    const { def } = entry;
    const t0 = this.now();
    this.log.info({ service: c.service, version: c.version }, 'canary check of a quarantined version');
    const got = await this.o.obtain(c.version, def);
    const result: { ok: boolean; stage?: UpgradeStage; reason: string; address?: string } =
      'path' in got ? await this.o.canary.run({ service: c.service, version: c.version, binaryPath: got.path, def, ...this.o.runSettings(def) }) : { ok: false, stage: got.stage, reason: got.reason };
    const at = this.now();
    const outcome = result.ok ? 'healthy' : 'unhealthy';
    const reason = result.reason.slice(0, 1900);
    this.o.state.update((d) => {
      (d.canary[c.service] ??= {})[c.version] = { at: new Date(at).toISOString(), outcome, reason };
    });
    const q = this.o.state.get().quarantine[c.service]?.[c.version];
    const next = !result.ok && q ? nextCheckAt(q, { at: new Date(at).toISOString() }, this.o.everyMs) : undefined;
    this.o.recorder.record(CanaryChecked, {
      host: this.o.recorder.host,
      service: c.service,
      version: c.version,
      outcome,
      ...(!result.ok && result.stage ? { stage: result.stage } : {}),
      reason,
      ...(result.address ? { address: result.address } : {}),
      durationMs: Math.max(0, at - t0),
      ...(next !== undefined ? { nextCheckAt: new Date(next).toISOString() } : {}),
    });
    if (!result.ok) {
      this.log.warn({ service: c.service, version: c.version, reason, nextCheckAt: next !== undefined ? new Date(next).toISOString() : undefined }, 'canary unhealthy: the version stays quarantined');
      return;
    }
    this.log.info({ service: c.service, version: c.version, reason }, 'canary healthy: quarantine lifted, upgrading');
    this.o.state.update((d) => {
      if (d.canary[c.service]) delete d.canary[c.service]![c.version];
      if (d.canary[c.service] && Object.keys(d.canary[c.service]!).length === 0) delete d.canary[c.service];
    });
    this.o.lift(c.service, c.version, `canary healthy: ${reason}`);
  }

  /** No new check; one under way runs to its verdict (a health window at most) and is recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.current;
  }
}
