// Moves services to the binary the protocol version asks for, and back when that fails.
// For each provider/consumer of the runner's chain whose version is below its role's target:
//   UpgradeStarted -> pre-upgrade hook -> obtain (installed | manifest | URL template | build)
//   -> `<binary> version` check -> atomic link switch -> restart -> health check
//   -> ServiceUpgraded, or UpgradeFailed + link back + restart + UpgradeRolledBack (UpgradeFailed +
//   UpgradeRolledBack without a restart when the failure came before the switch).
// Services are restarted `parallelism` at a time (1 = rolling). Every step is written to the
// state file first, so a runner killed in the middle rolls the service back to its previous link
// on restart, and the next reconcile upgrades it again. A failed version is retried with capped
// exponential backoff, never on every VersionChanged or block.
// Every side effect goes through a seam (upgrade-seams.ts): the service's process, the hook, the
// health probe, the binary source, the links, the state file and the recorder.
import { compareStrictVersions, parseStrictVersion, ServiceUpgraded, UpgradeFailed, UpgradeRolledBack, UpgradeStarted, uuidv7, type ProtocolVersion, type UpgradeStage } from '@fleetvisor/contracts';
import { backoffDelay } from '@fleetvisor/messaging/core';
import type { Logger } from '@fleetvisor/platform';
import type { EventRecorder } from '../events/event-recorder';
import type { HomeConfig, ServiceDefinition } from '../home/runner-home';
import { DEFAULT_CHILD_PATH } from '../config';
import { ObtainError } from './binary-fetcher';
import { commandHook, processHealth, type BinaryLinks, type BinarySource, type HealthProbe, type PreUpgradeHook, type ServiceProcess, type UpgradeHome } from './upgrade-seams';
import { failureKey, type UpgradeStateStore } from './upgrade-state';
import { decideUpgrade, fallbackVersion } from './version-select';

export interface UpgradeTuning {
  healthStableMs: number;
  healthTimeoutMs: number;
  upgradeParallelism: number;
  upgradeRetryInitialMs: number;
  upgradeRetryMaxMs: number;
}

export interface UpgradeCoordinatorOptions {
  home: UpgradeHome;
  config: Pick<HomeConfig, 'chainId' | 'download' | 'upgrade'>;
  store: BinaryLinks;
  fetcher: BinarySource;
  state: Pick<UpgradeStateStore, 'get' | 'update'>;
  recorder: Pick<EventRecorder, 'host' | 'record'>;
  services: () => ReadonlyMap<string, { def: ServiceDefinition; svc: ServiceProcess }>;
  tuning: UpgradeTuning;
  logger: Logger;
  /** Default: runs the configured command with PATH only (commandHook). */
  hook?: PreUpgradeHook;
  /** Default: the process must stay up, and answer the configured probe (processHealth). */
  health?: HealthProbe;
}

type Outcome = 'upgraded' | 'failed' | 'skipped';

export class UpgradeCoordinator {
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly o: UpgradeCoordinatorOptions) {
    this.log = o.logger.child({ component: 'upgrades' });
  }

  /** A protocol version from the bus, the log or the node. Newer-or-equal heights replace older ones. */
  onProtocolVersion(version: ProtocolVersion, source: { height?: number; eventId?: string }): void {
    const cur = this.o.state.get().protocol;
    if (cur?.height !== undefined && source.height !== undefined && source.height < cur.height) {
      this.log.debug({ height: source.height, known: cur.height }, 'older protocol version ignored');
      return;
    }
    if (!cur || JSON.stringify(cur.version) !== JSON.stringify(version) || cur.height !== source.height) {
      this.o.state.update((d) => {
        d.protocol = { version, ...(source.height !== undefined ? { height: source.height } : {}), ...(source.eventId ? { eventId: source.eventId } : {}) };
      });
      this.log.info({ version, height: source.height }, 'protocol version');
    }
    this.reconcile();
  }

  /** Runs a reconcile pass (serialized; a request during one runs another after it). */
  reconcile(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((e) => this.log.error({ err: (e as Error).message }, 'upgrade pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.reconcile();
        }
      });
  }

  /** Resolves when no pass is running and none is queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.idle();
  }

  /**
   * After a crash: every upgrade the state file says was under way is rolled back to the version
   * it came from (link switched back); the events say so. Call before services start.
   */
  recoverInterrupted(): void {
    const inProgress = this.o.state.get().inProgress;
    for (const [service, u] of Object.entries(inProgress)) {
      const entry = this.o.services().get(service);
      const reason = `runner stopped during the upgrade (${u.phase}); rolled back on restart`;
      if (entry) {
        try {
          this.o.store.switchLink(this.o.home.serviceLink(service), u.fromVersion, entry.def.binary);
        } catch (e) {
          this.log.error({ service, err: (e as Error).message }, 'cannot restore the previous link');
        }
        const ids = { host: this.o.recorder.host, service };
        this.o.recorder.record(UpgradeFailed, { ...ids, fromVersion: u.fromVersion, toVersion: u.toVersion, stage: 'start', reason }, { correlationId: u.correlationId });
        this.o.recorder.record(UpgradeRolledBack, { ...ids, restoredVersion: u.fromVersion, failedVersion: u.toVersion, reason }, { correlationId: u.correlationId });
        this.log.warn({ service, from: u.fromVersion, to: u.toVersion }, 'interrupted upgrade rolled back');
      }
      this.o.state.update((d) => {
        delete d.inProgress[service];
      });
    }
  }

  private async pass(): Promise<void> {
    const protocol = this.o.state.get().protocol;
    if (!protocol) return;
    const todo: { name: string; target: string; min: string; reason: string; from: string }[] = [];
    for (const [name, { def }] of this.o.services()) {
      if (def.role === 'wrapped' || (def.chainId && def.chainId !== this.o.config.chainId)) continue;
      const from = this.o.store.linkedVersion(this.o.home.serviceLink(name));
      const d = decideUpgrade(def.role, protocol.version, from);
      if (d.kind === 'none') continue;
      todo.push({ name, target: d.target, min: d.min, reason: d.reason, from: from ?? 'unknown' });
    }
    if (todo.length === 0) return;
    const parallelism = Math.max(1, this.o.config.upgrade.parallelism ?? this.o.tuning.upgradeParallelism);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length && !this.stopped) {
        const t = todo[next++]!;
        await this.upgradeOne(t.name, t.from, t.target, t.min, t.reason);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallelism, todo.length) }, worker));
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const failures = Object.values(this.o.state.get().failures);
    if (failures.length === 0 || this.stopped) return;
    const soonest = Math.min(...failures.map((f) => Date.parse(f.nextRetryAt)));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.reconcile();
    }, Math.max(100, soonest - Date.now()));
    this.retryTimer.unref();
  }

  private async upgradeOne(name: string, from: string, target: string, min: string, reason: string): Promise<Outcome> {
    const entry = this.o.services().get(name);
    if (!entry) return 'skipped';
    const { def, svc } = entry;
    const prior = this.o.state.get().failures[failureKey(name, target)];
    if (prior && Date.parse(prior.nextRetryAt) > Date.now()) return 'skipped';
    const ids = { host: this.o.recorder.host, service: name };
    const correlationId = uuidv7();
    const rec = { correlationId };
    const t0 = Date.now();
    const fromVersion = parseStrictVersion(from) ? from : 'unknown';
    this.o.recorder.record(UpgradeStarted, { ...ids, chainId: this.o.config.chainId, fromVersion, toVersion: target, reason }, rec);
    this.log.info({ service: name, from, to: target, reason }, 'upgrade started');

    // Obtain the target, else the best installed version >= min.
    let chosen = target;
    let binaryPath: string;
    try {
      binaryPath = await this.o.fetcher.obtain(target, def.binary, this.o.config.download);
    } catch (e) {
      const stage: UpgradeStage = e instanceof ObtainError ? e.stage : 'obtain';
      // A version that failed for this service and is still in its backoff is no candidate.
      const failures = this.o.state.get().failures;
      const usable = this.o.home.installedVersions(def.binary).filter((v) => {
        const f = failures[failureKey(name, v)];
        return !f || Date.parse(f.nextRetryAt) <= Date.now();
      });
      const fallback = fallbackVersion(usable, min, target, from);
      if (!fallback) return this.fail(name, fromVersion, target, stage, (e as Error).message, false, rec);
      this.log.warn({ service: name, target, fallback, err: (e as Error).message }, 'target unavailable; using the best installed version >= min');
      this.o.recorder.record(UpgradeFailed, { ...ids, fromVersion, toVersion: target, stage, reason: `${(e as Error).message}; falling back to ${fallback}` }, rec);
      this.recordFailure(name, target, (e as Error).message);
      chosen = fallback;
      binaryPath = this.o.home.binaryPath(fallback, def.binary);
    }
    const reported = await this.o.store.reportedVersion(binaryPath);
    if (reported !== chosen) {
      return this.fail(name, fromVersion, chosen, 'verify', `${binaryPath} reports version ${reported ?? '(none)'}, expected ${chosen}`, false, rec);
    }
    if (this.o.config.upgrade.preUpgrade) {
      const hook = await (this.o.hook ?? commandHook({ PATH: DEFAULT_CHILD_PATH })).run(this.o.config.upgrade.preUpgrade, { service: name, fromVersion, toVersion: chosen, binaryPath });
      if (!hook.ok) return this.fail(name, fromVersion, chosen, 'pre_upgrade', hook.reason, false, rec);
    }

    // Switch and restart, recording the step first so a crash can be undone.
    const link = this.o.home.serviceLink(name);
    this.o.state.update((d) => {
      d.inProgress[name] = { correlationId, fromVersion, toVersion: chosen, phase: 'switching', startedAt: new Date(t0).toISOString() };
    });
    try {
      this.o.store.switchLink(link, chosen, def.binary);
    } catch (e) {
      this.clearInProgress(name);
      return this.fail(name, fromVersion, chosen, 'switch', (e as Error).message, false, rec);
    }
    this.o.state.update((d) => {
      d.inProgress[name]!.phase = 'health';
    });
    await svc.restart({ hold: true });
    const health = await (this.o.health ?? processHealth).check({
      exited: svc.currentExit(),
      stableMs: this.o.tuning.healthStableMs,
      timeoutMs: this.o.tuning.healthTimeoutMs,
      probe: this.o.config.upgrade.probe ?? 'none',
      networkAddress: def.networkAddress,
    });
    if (health.ok) {
      svc.release();
      this.clearInProgress(name);
      // Failures of this version and older ones are forgotten; a newer target that could not be
      // had (we fell back) keeps its backoff, so it is retried later, not on every reconcile.
      this.o.state.update((d) => {
        for (const k of Object.keys(d.failures)) {
          if (!k.startsWith(`${name}@`)) continue;
          const v = k.slice(name.length + 1);
          if (!parseStrictVersion(v) || compareStrictVersions(v, chosen) <= 0) delete d.failures[k];
        }
      });
      this.advanceCurrent(def.binary, chosen);
      this.o.recorder.record(ServiceUpgraded, { ...ids, fromVersion, toVersion: chosen, durationMs: Date.now() - t0 }, rec);
      this.log.info({ service: name, from, to: chosen, ms: Date.now() - t0 }, 'upgrade successful');
      return 'upgraded';
    }
    return this.fail(name, fromVersion, chosen, health.stage, health.reason, true, rec);
  }

  private async fail(name: string, fromVersion: string, toVersion: string, stage: UpgradeStage, reason: string, changed: boolean, rec: { correlationId: string }): Promise<Outcome> {
    const ids = { host: this.o.recorder.host, service: name };
    this.o.recorder.record(UpgradeFailed, { ...ids, fromVersion, toVersion, stage, reason: reason.slice(0, 1900) }, rec);
    this.log.error({ service: name, to: toVersion, stage, reason }, 'upgrade failed');
    this.recordFailure(name, toVersion, reason);
    if (!changed) {
      // Nothing had been switched (no binary, bad checksum, wrong version, pre-upgrade hook): the
      // previous binary is still linked and still running. Said as a rollback all the same, so
      // every failed upgrade ends with UpgradeFailed + UpgradeRolledBack carrying the reason.
      if (parseStrictVersion(fromVersion)) {
        this.o.recorder.record(
          UpgradeRolledBack,
          { ...ids, restoredVersion: fromVersion, failedVersion: toVersion, reason: `${stage}: ${reason}; ${fromVersion} kept running, never stopped`.slice(0, 1900) },
          rec,
        );
      }
      return 'failed';
    }
    const entry = this.o.services().get(name)!;
    this.o.state.update((d) => {
      if (d.inProgress[name]) d.inProgress[name]!.phase = 'rolling_back';
    });
    if (parseStrictVersion(fromVersion)) {
      this.o.store.switchLink(this.o.home.serviceLink(name), fromVersion, entry.def.binary);
    }
    await entry.svc.restart({ hold: false });
    this.clearInProgress(name);
    this.o.recorder.record(UpgradeRolledBack, { ...ids, restoredVersion: fromVersion, failedVersion: toVersion, reason: `${stage}: ${reason}`.slice(0, 1900) }, rec);
    this.log.warn({ service: name, restored: fromVersion, failed: toVersion }, 'rolled back');
    return 'failed';
  }

  private recordFailure(name: string, version: string, reason: string): void {
    this.o.state.update((d) => {
      const k = failureKey(name, version);
      const attempts = (d.failures[k]?.attempts ?? 0) + 1;
      const wait = backoffDelay(attempts, { initialMs: this.o.tuning.upgradeRetryInitialMs, maxMs: this.o.tuning.upgradeRetryMaxMs });
      d.failures[k] = { attempts, nextRetryAt: new Date(Date.now() + wait).toISOString(), reason: reason.slice(0, 500) };
    });
  }

  private clearInProgress(name: string): void {
    this.o.state.update((d) => {
      delete d.inProgress[name];
    });
  }

  /** current/<binary> follows the newest version a service upgraded to (new services start there). */
  private advanceCurrent(binary: string, version: string): void {
    const link = this.o.home.currentLink(binary);
    const cur = this.o.store.linkedVersion(link);
    if (!cur || compareStrictVersions(version, cur) > 0) this.o.store.switchLink(link, version, binary);
  }
}
