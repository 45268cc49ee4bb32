// Moves services to the binary the protocol version asks for, and back when that fails.
// For each provider/consumer of the runner's chain whose version is below its role's target:
//   UpgradeStarted -> pre-upgrade hook -> obtain (installed | manifest | URL template | build)
//   -> `<binary> version` check -> atomic link switch -> restart -> health check
//   -> ServiceUpgraded, or UpgradeFailed + link back + restart + UpgradeRolledBack (UpgradeFailed +
//   UpgradeRolledBack without a restart when the failure came before the switch).
// Services are restarted `parallelism` at a time (1 = rolling). Every step is written to the
// state file first, so a runner killed in the middle rolls the service back to its previous link
// on restart, and the next reconcile upgrades it again. A version that fails (VersionQuarantined)
// is quarantined for that service: never retried by a timer, never a fallback, never started at
// runner start; only the chain announcing it anew, `upgrades retry`, or a healthy canary under the
// configured retry policy (canary-retry.ts, liftProven) lifts it (quarantine.ts), so a broken
// release cannot keep restarting the healthy services.
// Every side effect goes through a seam (upgrade-seams.ts): the service's process, the hook, the
// health probe, the binary source, the links, the state file and the recorder.
import {
  compareStrictVersions,
  parseStrictVersion,
  QuarantineLifted,
  ServiceUpgraded,
  UpgradeFailed,
  UpgradeRolledBack,
  UpgradeStarted,
  uuidv7,
  VersionQuarantined,
  type ProtocolVersion,
  type QuarantineStage,
  type ServiceUpgrades,
  type UpgradeStage,
} from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { EventRecorder } from '../events/event-recorder';
import type { HomeConfig, ServiceDefinition } from '../home/runner-home';
import { DEFAULT_CHILD_PATH } from '../config';
import { ObtainError } from './binary-fetcher';
import { commandHook, processHealth, type BinaryLinks, type BinarySource, type HealthProbe, type PreUpgradeHook, type ServiceProcess, type UpgradeHome } from './upgrade-seams';
import { liftedByVersionChange, startVersion, tryable, type ServiceQuarantine } from './quarantine';
import type { AdmissionGate } from './rollout-admission';
import type { UpgradeStateStore } from './upgrade-state';
import { decideUpgrade, fallbackVersion } from './version-select';

export interface UpgradeTuning {
  healthStableMs: number;
  healthTimeoutMs: number;
  upgradeParallelism: number;
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
  /** When the retry policy (canary, ADR 0008) tries a quarantined version next, for `upgrades list|show`. */
  retrySchedule?: (service: string, version: string) => { at: string; lastCheck?: string } | undefined;
  /**
   * Fleet-wide rollout (ADR 0009): when set, a pass that would upgrade asks it first and upgrades
   * nothing until it says yes (it schedules the next reconcile itself). Operators' rollbacks skip it.
   */
  admission?: AdmissionGate & { clear(): void };
}

type Outcome = 'upgraded' | 'failed' | 'skipped';

/** Thrown for an operator's request that cannot be done (unknown service, nothing quarantined...). */
export class UpgradeRequestError extends Error {
  override name = 'UpgradeRequestError';
  constructor(
    readonly code: 'not_found' | 'invalid_request',
    message: string,
  ) {
    super(message);
  }
}

/** Who and what caused an upgrade attempt (metadata of its events). */
interface Cause {
  causationId?: string;
  actor?: string;
}

/** A verified operator's command (ADR 0006): its signer is the actor, its id the cause. */
export interface OperatorCommand {
  actor: string;
  commandId: string;
}

function causeOf(by: OperatorCommand | undefined): Cause {
  return by ? { actor: by.actor, causationId: by.commandId } : {};
}

export class UpgradeCoordinator {
  private running: Promise<void> | undefined;
  private again = false;
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
      this.liftAnnounced(cur?.version, version, source);
      this.o.state.update((d) => {
        d.protocol = { version, ...(source.height !== undefined ? { height: source.height } : {}), ...(source.eventId ? { eventId: source.eventId } : {}) };
      });
      this.log.info({ version, height: source.height }, 'protocol version');
    }
    this.reconcile();
  }

  /** A target the chain announces anew is tried again, even if it failed here before. */
  private liftAnnounced(before: ProtocolVersion | undefined, after: ProtocolVersion, source: { height?: number; eventId?: string }): void {
    for (const [name, { def }] of this.o.services()) {
      for (const version of liftedByVersionChange(def.role, before, after, this.quarantineOf(name))) {
        const reason = `${def.role}_target set to ${version} again${source.height !== undefined ? ` at height ${source.height}` : ''}`;
        this.lift(name, version, reason, source.eventId ? { causationId: source.eventId } : {});
      }
    }
  }

  private lift(name: string, version: string, reason: string, cause: Cause): void {
    this.o.state.update((d) => {
      if (d.quarantine[name]) delete d.quarantine[name]![version];
      if (d.quarantine[name] && Object.keys(d.quarantine[name]!).length === 0) delete d.quarantine[name];
    });
    this.o.recorder.record(
      QuarantineLifted,
      { host: this.o.recorder.host, service: name, version, reason, ...(cause.actor ? { actor: cause.actor } : {}) },
      { ...(cause.causationId ? { causationId: cause.causationId } : {}), ...(cause.actor ? { actor: cause.actor } : {}) },
    );
    this.log.info({ service: name, version, reason }, 'quarantine lifted');
  }

  quarantineOf(name: string): ServiceQuarantine {
    return this.o.state.get().quarantine[name] ?? {};
  }

  /**
   * An operator's `upgrades retry`: lifts the quarantine of `version` (default: every quarantined
   * version of the service) and reconciles, so the chain's target is tried again now.
   */
  retry(name: string, version: string | undefined, by: OperatorCommand | undefined): string[] {
    if (!this.o.services().has(name)) {
      throw new UpgradeRequestError('not_found', `no service ${name} on ${this.o.recorder.host}; it has: ${[...this.o.services().keys()].join(', ') || '(none)'}`);
    }
    const q = this.quarantineOf(name);
    const versions = version === undefined ? Object.keys(q) : [version];
    if (versions.length === 0 || versions.some((v) => !q[v])) {
      const has = Object.keys(q);
      throw new UpgradeRequestError('invalid_request', `${version ?? 'no version'} of ${name} is not quarantined${has.length ? `; quarantined: ${has.join(', ')}` : ''}`);
    }
    for (const v of versions) this.lift(name, v, 'upgrades retry', causeOf(by));
    this.reconcile();
    return versions;
  }

  /**
   * The retry policy proved a quarantined version (a healthy canary, ADR 0008): lifted, and the
   * chain's target is tried now by the normal upgrade.
   */
  liftProven(name: string, version: string, reason: string): void {
    if (!this.o.services().has(name) || !this.quarantineOf(name)[version]) return;
    this.lift(name, version, reason, {});
    this.reconcile();
  }

  /**
   * An operator's `upgrades rollback`: switches the service to an installed version, health-checked
   * like any upgrade and serialized with the reconcile passes. The version it leaves is quarantined
   * (operator_rollback): otherwise the next VersionChanged would bring it straight back.
   */
  async rollback(name: string, version: string, by: OperatorCommand | undefined): Promise<{ fromVersion: string; outcome: 'switched' | 'failed'; reason?: string }> {
    const entry = this.o.services().get(name);
    if (!entry) throw new UpgradeRequestError('not_found', `no service ${name} on ${this.o.recorder.host}; it has: ${[...this.o.services().keys()].join(', ') || '(none)'}`);
    return this.exclusive(async () => {
      const { def } = entry;
      const from = this.o.store.linkedVersion(this.o.home.serviceLink(name));
      const installed = this.o.home.installedVersions(def.binary);
      if (!installed.includes(version)) throw new UpgradeRequestError('invalid_request', `${version} is not installed for ${name}; installed: ${installed.sort((a, b) => compareStrictVersions(b, a)).join(', ') || '(none)'}`);
      if (from === version) throw new UpgradeRequestError('invalid_request', `${name} already runs ${version}`);
      const q = this.quarantineOf(name)[version];
      if (q) throw new UpgradeRequestError('invalid_request', `${version} is quarantined for ${name} (${q.stage}: ${q.reason}); \`upgrades retry ${name} --version ${version}\` first`);
      const who = by?.actor ?? 'an operator';
      const outcome = await this.upgradeOne(name, from ?? 'unknown', version, version, `rollback to ${version} requested by ${who}`, causeOf(by), true, from);
      if (outcome !== 'upgraded') {
        const failed = this.quarantineOf(name)[version];
        return { fromVersion: from ?? 'unknown', outcome: 'failed' as const, reason: failed ? `${failed.stage}: ${failed.reason}` : 'the switch failed; see UpgradeFailed' };
      }
      return { fromVersion: from ?? 'unknown', outcome: 'switched' as const };
    });
  }

  /** Runs fn when no pass runs, and keeps passes out until it is done (a reconcile asked meanwhile runs after). */
  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running) await this.running;
    const work = fn();
    this.running = work
      .then(() => undefined, () => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.reconcile();
        }
      });
    return work;
  }

  /** `upgrades list` for one service: what runs, what its link selects, what is installed or quarantined. */
  upgradesOf(name: string, running: string | undefined): ServiceUpgrades | undefined {
    const entry = this.o.services().get(name);
    if (!entry) return undefined;
    const { def } = entry;
    const linked = this.o.store.linkedVersion(this.o.home.serviceLink(name));
    return {
      service: name,
      role: def.role,
      binary: def.binary,
      ...(running ? { running } : {}),
      ...(linked ? { linked } : {}),
      installed: this.o.home.installedVersions(def.binary).sort((a, b) => compareStrictVersions(b, a)),
      quarantined: Object.entries(this.quarantineOf(name))
        .map(([version, r]) => {
          const next = this.o.retrySchedule?.(name, version);
          return { version, stage: r.stage, reason: r.reason.slice(0, 2000), at: r.at, ...(next ? { nextRetryAt: next.at, ...(next.lastCheck ? { lastCheck: next.lastCheck } : {}) } : {}) };
        })
        .sort((a, b) => compareStrictVersions(b.version, a.version)),
    };
  }

  /**
   * Before services start: a service whose link names a quarantined version is switched to the
   * last version it ran healthily (or the newest usable one below), recorded as a rollback.
   */
  avoidQuarantinedAtStart(): void {
    for (const [name, { def }] of this.o.services()) {
      if (def.role === 'wrapped') continue;
      const link = this.o.home.serviceLink(name);
      const linked = this.o.store.linkedVersion(link);
      const decision = startVersion({ linked, quarantined: this.quarantineOf(name), lastGood: this.o.state.get().lastGood[name], installed: this.o.home.installedVersions(def.binary) });
      if (decision.kind === 'keep') continue;
      if (decision.kind === 'stuck') {
        this.log.error({ service: name, linked }, decision.reason);
        continue;
      }
      try {
        this.o.store.switchLink(link, decision.version, def.binary);
      } catch (e) {
        this.log.error({ service: name, err: (e as Error).message }, 'cannot switch away from a quarantined version');
        continue;
      }
      this.o.recorder.record(UpgradeRolledBack, { host: this.o.recorder.host, service: name, restoredVersion: decision.version, failedVersion: linked!, reason: decision.reason.slice(0, 2000) });
      this.log.warn({ service: name, from: linked, to: decision.version }, decision.reason);
    }
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
    const cause: Cause = protocol.eventId ? { causationId: protocol.eventId } : {};
    const todo: { name: string; target: string; min: string; reason: string; from: string; installedOnly: boolean }[] = [];
    for (const [name, { def }] of this.o.services()) {
      if (def.role === 'wrapped' || (def.chainId && def.chainId !== this.o.config.chainId)) continue;
      const from = this.o.store.linkedVersion(this.o.home.serviceLink(name));
      const d = decideUpgrade(def.role, protocol.version, from);
      if (d.kind === 'none') continue;
      const q = this.quarantineOf(name);
      if (!tryable(q, d.target)) {
        // The target failed here: only an installed version in [min, target) that did not fail
        // and is newer than what runs is worth a restart.
        const fallback = fallbackVersion(this.o.home.installedVersions(def.binary).filter((v) => tryable(q, v)), d.min, d.target, from);
        if (!fallback) {
          this.log.debug({ service: name, target: d.target }, 'target is quarantined; staying on the running version');
          continue;
        }
        todo.push({ name, target: fallback, min: d.min, reason: `${d.reason}; ${d.target} is quarantined, moving to installed ${fallback}`, from: from ?? 'unknown', installedOnly: true });
        continue;
      }
      todo.push({ name, target: d.target, min: d.min, reason: d.reason, from: from ?? 'unknown', installedOnly: false });
    }
    if (todo.length === 0) {
      this.o.admission?.clear();
      return;
    }
    if (this.o.admission && !(await this.o.admission.admit(protocol.version, todo.map((t) => ({ service: t.name, toVersion: t.target }))))) return;
    const parallelism = Math.max(1, this.o.config.upgrade.parallelism ?? this.o.tuning.upgradeParallelism);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length && !this.stopped) {
        const t = todo[next++]!;
        await this.upgradeOne(t.name, t.from, t.target, t.min, t.reason, cause, t.installedOnly);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallelism, todo.length) }, worker));
  }

  /** `leaving`: a version an operator rolls back from, quarantined once the rollback is healthy. */
  private async upgradeOne(name: string, from: string, target: string, min: string, reason: string, cause: Cause, installedOnly: boolean, leaving?: string): Promise<Outcome> {
    const entry = this.o.services().get(name);
    if (!entry) return 'skipped';
    const { def, svc } = entry;
    const ids = { host: this.o.recorder.host, service: name };
    const correlationId = uuidv7();
    const rec = { correlationId, ...(cause.causationId ? { causationId: cause.causationId } : {}) };
    const t0 = Date.now();
    const fromVersion = parseStrictVersion(from) ? from : 'unknown';
    this.o.recorder.record(UpgradeStarted, { ...ids, chainId: this.o.config.chainId, fromVersion, toVersion: target, reason, ...(cause.actor ? { actor: cause.actor } : {}) }, { ...rec, ...(cause.actor ? { actor: cause.actor } : {}) });
    this.log.info({ service: name, from, to: target, reason }, 'upgrade started');

    // Obtain the target, else the best installed version >= min that has not failed here.
    let chosen = target;
    let binaryPath: string;
    try {
      binaryPath = installedOnly ? this.o.home.binaryPath(target, def.binary) : await this.o.fetcher.obtain(target, def.binary, this.o.config.download);
    } catch (e) {
      const stage: UpgradeStage = e instanceof ObtainError ? e.stage : 'obtain';
      const message = (e as Error).message;
      const q = this.quarantineOf(name);
      const fallback = fallbackVersion(this.o.home.installedVersions(def.binary).filter((v) => tryable(q, v)), min, target, from);
      if (!fallback) return this.fail(name, fromVersion, target, stage, message, false, rec);
      this.log.warn({ service: name, target, fallback, err: message }, 'target unavailable; using the best installed version >= min');
      this.o.recorder.record(UpgradeFailed, { ...ids, fromVersion, toVersion: target, stage, reason: `${message}; falling back to ${fallback}`.slice(0, 1900) }, rec);
      this.quarantine(name, target, stage, message, rec);
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
      this.o.state.update((d) => {
        d.lastGood[name] = chosen;
      });
      this.advanceCurrent(def.binary, chosen);
      this.o.recorder.record(ServiceUpgraded, { ...ids, fromVersion, toVersion: chosen, durationMs: Date.now() - t0 }, rec);
      if (leaving) this.quarantine(name, leaving, 'operator_rollback', `rolled back to ${chosen} by ${cause.actor ?? 'an operator'}`, { ...rec, ...(cause.actor ? { actor: cause.actor } : {}) });
      this.log.info({ service: name, from, to: chosen, ms: Date.now() - t0 }, 'upgrade successful');
      return 'upgraded';
    }
    return this.fail(name, fromVersion, chosen, health.stage, health.reason, true, rec);
  }

  private async fail(name: string, fromVersion: string, toVersion: string, stage: UpgradeStage, reason: string, changed: boolean, rec: { correlationId: string; causationId?: string }): Promise<Outcome> {
    const ids = { host: this.o.recorder.host, service: name };
    this.o.recorder.record(UpgradeFailed, { ...ids, fromVersion, toVersion, stage, reason: reason.slice(0, 1900) }, rec);
    this.log.error({ service: name, to: toVersion, stage, reason }, 'upgrade failed');
    if (parseStrictVersion(fromVersion)) {
      this.o.state.update((d) => {
        d.lastGood[name] = fromVersion;
      });
    }
    // A relink that failed says nothing about the version; every other failure does. Recorded
    // after the rollback, which is what the operator needs first.
    const quarantine = (): void => {
      if (stage !== 'switch') this.quarantine(name, toVersion, stage, reason, rec);
    };
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
      quarantine();
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
    quarantine();
    return 'failed';
  }

  private quarantine(name: string, version: string, stage: QuarantineStage, reason: string, rec: { correlationId: string; causationId?: string; actor?: string }): void {
    if (!parseStrictVersion(version) || this.quarantineOf(name)[version]) return;
    const text = reason.slice(0, 1900);
    this.o.state.update((d) => {
      (d.quarantine[name] ??= {})[version] = { stage, reason: text, at: new Date().toISOString() };
    });
    this.o.recorder.record(VersionQuarantined, { host: this.o.recorder.host, service: name, version, stage, reason: text }, rec);
    this.log.warn({ service: name, version, stage }, 'version quarantined for this service: not retried until the chain announces it anew or `upgrades retry`');
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
