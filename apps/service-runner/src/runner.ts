// The runner: supervises this host's services, records their events through the spool, follows
// VersionChanged for its chain and upgrades/rolls back, answers local control, and gives the
// bus handlers (service-runner.module.ts) what they answer. Plain class, started and stopped by
// the Nest shell. The host holds no database credentials (ADR 0006): events go to the log through
// the central event intake, and nothing here waits on NATS: it is optional at every moment.
import { rmSync } from 'node:fs';
import path from 'node:path';
import {
  ForgeryRejected,
  HOST_NAME_PATTERN,
  ChainRolloutAdmit,
  HostOffline,
  HostOnline,
  type EventData,
  type EventEnvelope,
  type PendingAdmission,
  type PendingVerification,
  type ServiceAction,
  type ServiceStatus,
  type ServiceSummary,
  type ServiceUpgrades,
  VersionChanged,
} from '@fleetvisor/contracts';
import type { EdgeBus } from '@fleetvisor/messaging/core';
import { forgeryRejectedData, keysBucketName, RefusalReporter, requireTrustRoots, TrustVerifier, watchRevocations, type RevocationWatch } from '@fleetvisor/trust';
import { ConfigError, fleetvisorVersion, type Logger } from '@fleetvisor/platform';
import type { RunnerConfig } from './config';
import { EventRecorder } from './events/event-recorder';
import { EventSpool, SpoolFlusher } from './events/event-spool';
import { validServiceName } from './home/names';
import { RunnerHome, type HomeConfig, type ServiceDefinition } from './home/runner-home';
import { metricsAddressOf } from './home/metrics-address';
import { RunnerLinks } from './bus/runner-links';
import { HostHeartbeatSender } from './bus/host-heartbeat';
import { ChainEventGate } from './bus/chain-event-gate';
import { VersionFollower } from './bus/version-follower';
import { isIntakeRefusal } from './events/intake-sink';
import { NodeConfirmer } from './chain/node-confirmation';
import { ControlServer, type ControlRequest } from './supervision/control-socket';
import { readPidRecord, stillRunning } from './supervision/process-identity';
import { stopRecorded, SupervisedService } from './supervision/supervised-service';
import { BinaryFetcher } from './upgrades/binary-fetcher';
import { BinaryStore } from './upgrades/binary-store';
import { UpgradeCoordinator, type OperatorCommand } from './upgrades/upgrade-coordinator';
import { CanaryRetry } from './upgrades/canary-retry';
import { ProcessCanary } from './upgrades/canary-process';
import { ObtainError } from './upgrades/binary-fetcher';
import { RolloutAdmission } from './upgrades/rollout-admission';
import { commandHook } from './upgrades/upgrade-seams';
import { showUpgrades, streamHistorySource, type HistorySource } from './upgrades/upgrade-history';
import { UpgradeStateStore } from './upgrades/upgrade-state';
import { KeyringPasswordStore, type KeySource } from './secrets/secret-box';
import { ServiceChecks } from './supervision/service-checks';

export interface RunnerOptions {
  config: RunnerConfig;
  logger: Logger;
  /** The bus (NATS, possibly not up yet); the app's FleetEdgeModule owns it. */
  bus: EdgeBus;
  /** wrap / pod: supervise exactly these (not config.yml's); without followChain, follow no version. */
  wrapped?: ServiceDefinition[];
  /**
   * With `wrapped`: follow the home's chain as `start` does; the wrapped services run on their
   * links (services/<name>.bin) and are upgraded on VersionChanged (LavaVisor's wrap and pod).
   */
  followChain?: boolean;
  /** Copy child output to this process's stdout/stderr (wrap). */
  echo?: boolean;
  /**
   * The process's one TrustVerifier, shared with the bus's command verification so that a revocation
   * heard once applies to chain events and commands alike (default: one made from the config's roots).
   */
  verifier?: TrustVerifier;
}

export function validHost(host: string): string {
  if (!new RegExp(HOST_NAME_PATTERN).test(host)) {
    throw new ConfigError('FLEETVISOR_HOST', `"${host}" is not a valid host id (letters, digits, . _ -, max 120)`);
  }
  return host;
}

export class Runner {
  readonly home: RunnerHome;
  readonly host: string;
  readonly spool: EventSpool;
  readonly recorder: EventRecorder;
  readonly flusher: SpoolFlusher;
  readonly links: RunnerLinks;
  readonly store: BinaryStore;
  readonly state: UpgradeStateStore;
  readonly services = new Map<string, { def: ServiceDefinition; svc: SupervisedService }>();
  private readonly metricsAddresses = new WeakMap<ServiceDefinition, string | undefined>();
  coordinator: UpgradeCoordinator | undefined;
  /** The canary retry policy (config.yml upgrade.retry), when configured (ADR 0008). */
  canary: CanaryRetry | undefined;
  private admission: RolloutAdmission | undefined;
  /** Refused chain events (and later commands): counted by kind and code, reported as ForgeryRejected. */
  readonly refusals: RefusalReporter;
  /** Trust roots and heard revocations; undefined in wrap mode, which acts on no chain event. */
  readonly verifier: TrustVerifier;
  private gate: ChainEventGate | undefined;
  private revocations: RevocationWatch | undefined;
  private follower: VersionFollower | undefined;
  private control: ControlServer | undefined;
  private heartbeat: HostHeartbeatSender | undefined;
  /** config.yml (not in wrap mode), read once when the runner is made. */
  private readonly homeConfig: HomeConfig | undefined;
  private password: string | undefined;
  /** Services' own passwords (`secrets set-password <service>`), preferred to the keyring one. */
  private readonly servicePasswords = new Map<string, string>();
  /** Attention patterns, own health probe, password delivery by API, per service. */
  private readonly checks = new Map<string, ServiceChecks>();
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: RunnerOptions) {
    this.log = opts.logger;
    this.host = validHost(opts.config.core.host);
    this.home = new RunnerHome(opts.config.directory);
    this.home.ensureLayout();
    this.spool = new EventSpool(this.home.spoolDir);
    this.recorder = new EventRecorder(this.spool, this.host);
    this.links = new RunnerLinks(opts.config.core, opts.bus);
    this.flusher = new SpoolFlusher({ spool: this.spool, logger: this.log, sink: () => this.links.sink(), isPermanent: isIntakeRefusal });
    this.recorder.attach(this.flusher);
    this.store = new BinaryStore(this.home);
    this.state = new UpgradeStateStore(this.home.stateDir);
    if (opts.wrapped === undefined || opts.followChain) this.homeConfig = this.home.readConfig();
    // A runner acts only on chain events and operators' commands signed by keys of the fleet's root.
    this.verifier = opts.verifier ?? new TrustVerifier(requireTrustRoots(opts.config.trust, 'the service-runner'));
    this.refusals = new RefusalReporter({ logger: this.log, onReport: (r) => this.recorder.record(ForgeryRejected, forgeryRejectedData(this.host, r)) });
  }

  /** The chain whose VersionChanged this runner follows; undefined for `wrap`, which follows none. */
  get chainId(): string | undefined {
    return this.homeConfig?.chainId;
  }

  private keySource(): KeySource | undefined {
    const c = this.opts.config;
    if (c.secretsKeyFile) return { keyFile: c.secretsKeyFile };
    if (c.secretsPassphrase) return { passphrase: c.secretsPassphrase };
    return undefined;
  }

  async start(): Promise<void> {
    const wrap = this.opts.wrapped !== undefined;
    const defs = wrap ? this.opts.wrapped! : this.loadDefinitions();
    // A service's own password first: the keyring one is needed (and missed) only without it.
    for (const d of defs) if (d.keyringPassword) this.loadServicePassword(d.name);
    if (defs.some((d) => d.keyringPassword && !this.servicePasswords.has(d.name))) this.loadPassword();
    for (const def of defs) this.supervise(def);
    const t = this.opts.config.tuning;
    if (this.homeConfig) {
      const cfg = this.homeConfig!;
      const fetcher = new BinaryFetcher({ home: this.home, platform: this.opts.config.platform, onProgress: (p) => this.log.info(p, 'downloading') });
      this.coordinator = new UpgradeCoordinator({
        home: this.home,
        config: cfg,
        store: this.store,
        fetcher,
        state: this.state,
        recorder: this.recorder,
        services: () => this.services,
        tuning: t,
        logger: this.log,
        hook: commandHook(this.opts.config.childEnvironment),
        retrySchedule: (service, version) => this.canary?.scheduleOf(service, version),
        ...(t.rollout === 'coordinated' ? { admission: this.admissionFor(cfg.chainId) } : {}),
      });
      this.coordinator.recoverInterrupted();
      this.coordinator.avoidQuarantinedAtStart();
      if (cfg.upgrade.retry) this.canary = await this.makeCanaryRetry(cfg.upgrade.retry.everyMs, fetcher, this.coordinator);
    }
    // Host liveness (issue 14): HostOnline now, HostOffline on a clean stop, a heartbeat between.
    this.recorder.recordIn(HostOnline, this.host, { host: this.host, process: 'service-runner', pid: process.pid, fleetvisorVersion: fleetvisorVersion().slice(0, 100) || 'unknown' });
    this.heartbeat = new HostHeartbeatSender({ host: this.host, intervalMs: t.heartbeatIntervalMs, commands: () => this.links.current?.commands, services: () => this.services.size, logger: this.log });
    this.heartbeat.start();
    this.flusher.kick();
    for (const { svc } of this.services.values()) await this.bringUp(svc);
    // Revocations apply to commands in every mode, and chain events wait for them (follow mode).
    const revocationsHeard = this.watchRevocations();
    if (this.coordinator) {
      const chainId = this.homeConfig!.chainId;
      const coordinator = this.coordinator;
      this.gate = new ChainEventGate({
        chainId,
        verifier: this.verifier,
        refusals: this.refusals,
        ...(this.opts.config.chainRpc ? { node: new NodeConfirmer(this.opts.config.chainRpc) } : {}),
        revocationsHeard,
        subjects: this.opts.bus.subjects,
        logger: this.log,
        retryInitialMs: t.verifyRetryInitialMs,
        retryMaxMs: t.verifyRetryMaxMs,
        act: (e) => {
          // The coordinator follows versions; a verified UpgradePlanned has nothing to act on here yet.
          if (e.type !== VersionChanged.type) return;
          const d = e.data as EventData<typeof VersionChanged>;
          coordinator.onProtocolVersion(d.current, { height: d.height, eventId: e.id });
        },
      });
      this.follower = new VersionFollower(this.links.versionCatchUp(chainId), chainId, this.gate, this.log);
      this.follower.start();
      // Versions seen before a restart still apply (e.g. log and bus both down now).
      this.coordinator.reconcile();
      this.canary?.start();
    }
    this.control = new ControlServer(this.home.socketPath, (req) => this.onControl(req));
    await this.control.start().catch((e) => this.log.warn({ err: (e as Error).message }, 'local control socket unavailable'));
    this.log.info({ host: this.host, services: [...this.services.keys()], home: this.home.root }, 'service runner started');
  }

  /** The canary retry policy (ADR 0008); a canary a killed runner left is stopped first. */
  private async makeCanaryRetry(everyMs: number, fetcher: BinaryFetcher, coordinator: UpgradeCoordinator): Promise<CanaryRetry> {
    const t = this.opts.config.tuning;
    const canary = new ProcessCanary({
      workDir: this.home.tmpDir,
      logFile: (s) => path.join(this.home.logsDir, `${s}.canary.log`),
      pidFile: (s) => path.join(this.home.stateDir, `${s}.canary.pid`),
      logger: this.log,
    });
    for (const name of this.services.keys()) await canary.reapLeftover(name, t.stopGraceMs);
    const retry = new CanaryRetry({
      everyMs,
      services: () => this.services,
      linked: (s) => this.store.linkedVersion(this.home.serviceLink(s)),
      state: this.state,
      obtain: async (version, def) => {
        try {
          const file = await fetcher.obtain(version, def.binary, this.homeConfig!.download);
          const reported = await this.store.reportedVersion(file);
          return reported === version ? { path: file } : { stage: 'verify' as const, reason: `${file} reports version ${reported ?? '(none)'}, expected ${version}` };
        } catch (e) {
          return { stage: e instanceof ObtainError ? e.stage : ('obtain' as const), reason: (e as Error).message };
        }
      },
      canary,
      runSettings: (def) => ({
        env: { ...this.opts.config.childEnvironment, ...def.env },
        ...(def.keyringPassword && def.passwordVia !== 'json-rpc' ? { password: () => this.passwordFor(def.name) } : {}),
        probe: this.homeConfig!.upgrade.probe ?? 'none',
        stableMs: t.healthStableMs,
        timeoutMs: t.healthTimeoutMs,
        stopGraceMs: t.stopGraceMs,
      }),
      lift: (service, version, reason) => coordinator.liftProven(service, version, reason),
      recorder: this.recorder,
      logger: this.log,
    });
    this.log.info({ everyMs }, 'retry policy: a quarantined target is proved by a canary before any upgrade to it');
    return retry;
  }

  /**
   * Revocations over the bus (the fleet_keys bucket of the subject root), once NATS answers. The
   * promise resolves when they are heard (or the bucket is known not to exist); it stays pending
   * while NATS is away, and chain events wait for it.
   */
  private watchRevocations(): Promise<void> {
    const verifier = this.verifier;
    return this.opts.bus.ready().then(
      async (bus) => {
        if (this.stopping) return;
        this.revocations = watchRevocations(bus.nc, verifier, { logger: this.log, bucket: keysBucketName(this.opts.config.core.subjectRoot) });
        await this.revocations.ready;
      },
      () => new Promise<void>(() => undefined), // the bus closed before it answered: the runner is stopping
    );
  }

  /**
   * Asks the chain-watcher for admission on this host's scoped subject (ADR 0009); the next
   * reconcile asks again. No bus yet is an answer like any other: not admitted.
   */
  private admissionFor(chainId: string): RolloutAdmission {
    this.admission = new RolloutAdmission({
      chainId,
      ask: async (req) => {
        const bus = this.links.current;
        if (!bus) return { ok: false, error: { code: 'unavailable', message: 'NATS not reachable yet' } };
        return bus.commands.request(ChainRolloutAdmit, req, { scope: this.host, timeoutMs: 5_000 });
      },
      retry: () => this.coordinator?.reconcile(),
      logger: this.log,
      retryInitialMs: 1_000,
      retryMaxMs: this.opts.config.tuning.rolloutRetryMaxMs,
    });
    return this.admission;
  }

  /** The upgrade held until the fleet-wide rollout admits this host, if any. */
  pendingAdmission(): PendingAdmission | undefined {
    return this.admission?.pendingAdmission();
  }

  /** The chain event held for its own node's confirmation (highest height), if any. */
  pendingVerification(): PendingVerification | undefined {
    return this.gate?.pendingVerification();
  }

  private loadPassword(): void {
    const pw = new KeyringPasswordStore(this.home.secretsDir);
    const src = this.keySource();
    if (pw.exists() && src) this.password = pw.get(src);
    else this.log.warn('a service wants the keyring password but none is stored or no key is configured (FLEETVISOR_SECRETS_PASSPHRASE / FLEETVISOR_SECRETS_KEY_FILE)');
  }

  /** A service's own stored password (`secrets set-password <service>`), read when there is one. */
  private loadServicePassword(name: string): boolean {
    const store = new KeyringPasswordStore(this.home.secretsDir, name);
    const src = this.keySource();
    if (!store.exists() || !src) return false;
    try {
      this.servicePasswords.set(name, store.get(src));
      return true;
    } catch (e) {
      this.log.error({ service: name, err: (e as Error).message }, 'the service\'s stored password cannot be read');
      return false;
    }
  }

  /** The password a service gets: its own, else the keyring password. */
  private passwordFor(name: string): string | undefined {
    return this.servicePasswords.get(name) ?? this.password;
  }

  /**
   * `secrets set-password [<service>]` while this runner runs: the new password is read and, for a
   * service that takes it through its API (venus-wallet), delivered to the running process at once.
   * A service that types it at a prompt (lavap) gets it at its next start.
   */
  passwordStored(service: string): { host: string; service: string; outcome: 'delivering' | 'next-start' } {
    const e = this.services.get(service);
    if (!e) throw new Error(`no service ${service}; this runner has: ${[...this.services.keys()].join(', ') || '(none)'}`);
    if (!e.def.keyringPassword) throw new Error(`${service} takes no password (keyring-password is not set in its definition)`);
    // set-password <service> wrote the service's own file just before: never fall back to the keyring one here.
    if (!this.loadServicePassword(service)) throw new Error('the runner cannot read the password just stored: it needs the same FLEETVISOR_SECRETS_PASSPHRASE or FLEETVISOR_SECRETS_KEY_FILE as set-password');
    const outcome = this.checks.get(service)?.passwordChanged() ?? 'next-start';
    return { host: this.host, service, outcome };
  }

  /** Makes the supervisor of one service and registers it (not started). */
  private supervise(def: ServiceDefinition): SupervisedService {
    const wrap = this.opts.wrapped !== undefined;
    // A wrapped process that follows no chain runs its own binary; every other service its link.
    // A venus component (`command:` in its definition) runs its binary as it is.
    const direct = (wrap && !this.opts.followChain) || def.command !== undefined;
    const pidFile = path.join(this.home.stateDir, `${def.name}.pid`);
    const pid = (): number | undefined => {
      const e = this.services.get(def.name);
      return e?.svc.running ? e.svc.pid : undefined;
    };
    const checks = new ServiceChecks({ def, recorder: this.recorder, logger: this.log, password: () => this.passwordFor(def.name), pid });
    this.checks.set(def.name, checks);
    const svc = new SupervisedService(
      {
        name: def.name,
        role: def.role,
        ...(def.chainId ? { chainId: def.chainId } : {}),
        binary: def.binary,
        command: def.command ?? (direct ? def.configPath : this.home.serviceLink(def.name)),
        args: def.args,
        configPath: def.configPath,
        ...(def.networkAddress ? { networkAddress: def.networkAddress } : {}),
        logFile: this.home.logFile(def.name),
        pidFile,
        ...(def.keyringPassword && !checks.deliversByApi ? { password: () => this.passwordFor(def.name) } : {}),
        ...(this.opts.echo ? { echo: true } : {}),
        ...(wrap ? { cwd: process.cwd() } : {}),
        env: { ...this.opts.config.childEnvironment, ...def.env },
        ...(checks.watchesOutput ? { onOutput: (d: Buffer) => checks.watch.feed(d) } : {}),
        onRunStart: () => checks.onRunStart(),
        onRunEnd: () => checks.onRunEnd(),
      },
      this.opts.config.tuning,
      direct ? { resolve: (f) => f, reportedVersion: async (f) => (await this.store.reportedVersion(f)) ?? (def.command ? 'unknown' : undefined) } : this.store,
      this.recorder,
      this.log,
    );
    this.services.set(def.name, { def, svc });
    return svc;
  }

  /** Live-restore is on for this runner: `start` with FLEETVISOR_RUNNER_LIVE_RESTORE (default true); never `wrap`/`pod`. */
  private get liveRestore(): boolean {
    return this.opts.config.liveRestore && this.opts.wrapped === undefined;
  }

  /**
   * Starts a service, or adopts the process of it that an earlier life of this runner left running
   * (ADR 0007): adopted only when it is that very process (pid, start time, binary on its command
   * line) and runs what the service's link points at now (after recoverInterrupted and the
   * quarantine check have set the links), so an interrupted upgrade or a quarantined version is
   * never kept. Anything else the pid file names is stopped first; a recycled pid is left alone.
   */
  private async bringUp(svc: SupervisedService): Promise<void> {
    const prior = readPidRecord(svc.spec.pidFile);
    if (prior) {
      if (stillRunning(prior)) {
        // Through the service's own resolver: a venus component's `command:` is a file, not a link.
        const runs = svc.resolveCommand();
        if (this.liveRestore && runs === prior.binaryPath) {
          svc.adopt(prior);
          return;
        }
        this.log.info(
          { service: svc.spec.name, pid: prior.pid, binaryPath: prior.binaryPath, link: runs ?? null, liveRestore: this.liveRestore },
          this.liveRestore ? 'a process left by the previous runner runs another binary than the link: stopping it' : 'live-restore is off: stopping the process left by the previous runner',
        );
      }
      await stopRecorded(prior, this.opts.config.tuning.stopGraceMs, this.log);
      rmSync(svc.spec.pidFile, { force: true });
    }
    await svc.start();
  }

  /**
   * `create-service` while this runner runs: takes up a service newly listed in config.yml and
   * starts it, as a service of the start would be (its events recorded, its version followed).
   * A service it already supervises is left as it is.
   */
  async addService(name: string): Promise<{ host: string; outcome: 'started' | 'already-supervised'; status: ServiceStatus | undefined }> {
    if (this.opts.wrapped !== undefined) throw new Error('this runner runs `wrap` and supervises only the wrapped process: start a runner for this home with `fleetvisor start`');
    if (this.stopping) throw new Error('the runner is stopping');
    if (this.services.has(name)) return { host: this.host, outcome: 'already-supervised', status: this.status(name) };
    if (!this.home.readConfig().services.includes(name)) throw new Error(`${name} is not listed in ${this.home.configFile}`);
    const def = this.home.readService(name);
    if (def.keyringPassword && !this.loadServicePassword(def.name) && this.password === undefined) this.loadPassword();
    const svc = this.supervise(def);
    this.log.info({ service: name }, 'service added while running');
    await this.bringUp(svc);
    // Its link was set to the installed current version: bring it to the chain's target like the others.
    this.coordinator?.reconcile();
    return { host: this.host, outcome: 'started', status: this.status(name) };
  }

  /** A VersionChanged from the bus (the runner's durable consumer); ignored before start and in wrap mode. */
  async onVersionChanged(event: EventEnvelope): Promise<void> {
    await this.follower?.accept(event, 'bus');
  }

  private loadDefinitions(): ServiceDefinition[] {
    const out: ServiceDefinition[] = [];
    for (const name of this.homeConfig!.services) {
      try {
        out.push(this.home.readService(name));
      } catch (e) {
        this.log.error({ service: name, err: (e as Error).message }, 'service definition unreadable; not started');
      }
    }
    return out;
  }

  list(chainId?: string): ServiceSummary[] {
    const out: ServiceSummary[] = [];
    for (const [name, { def, svc }] of this.services) {
      if (chainId && def.chainId !== chainId) continue;
      out.push({
        service: name,
        role: def.role,
        ...(def.chainId ? { chainId: def.chainId } : {}),
        binary: def.binary,
        ...(svc.version ? { version: svc.version } : {}),
        state: svc.state,
        ...(svc.running && svc.pid ? { pid: svc.pid } : {}),
        ...(svc.running && svc.startedAt ? { startedAt: svc.startedAt.toISOString() } : {}),
        restarts: svc.restarts,
        ...(svc.running && svc.adopted ? { adopted: true } : {}),
        ...this.nextRetryOf(name),
        ...this.metricsAddress(def),
        ...this.checksOf(name, def, svc.running),
      });
    }
    return out;
  }

  /** The service's kind, its own probe's last answer and its open attention problems. */
  private checksOf(name: string, def: ServiceDefinition, running: boolean): Pick<ServiceSummary, 'kind' | 'health' | 'attention'> {
    const c = this.checks.get(name);
    const attention = running ? (c?.attention() ?? []) : [];
    return {
      ...(def.kind ? { kind: def.kind } : {}),
      ...(running && c?.health ? { health: c.health } : {}),
      ...(attention.length ? { attention: attention.slice(0, 32) } : {}),
    };
  }

  /** The canary the retry policy runs next for a service's quarantined target, if any. */
  private nextRetryOf(name: string): { nextRetry?: { version: string; at: string } } {
    const next = this.canary?.scheduleOf(name);
    return next ? { nextRetry: { version: next.version, at: next.at } } : {};
  }

  /** The service's metrics endpoint for scrape discovery, read once per definition. */
  private metricsAddress(def: ServiceDefinition): { metricsAddress?: string } {
    if (!this.metricsAddresses.has(def)) this.metricsAddresses.set(def, metricsAddressOf(def));
    const a = this.metricsAddresses.get(def);
    return a === undefined ? {} : { metricsAddress: a };
  }

  status(name: string): ServiceStatus | undefined {
    const e = this.services.get(name);
    if (!e) return undefined;
    const summary = this.list().find((s) => s.service === name)!;
    const { svc, def } = e;
    return {
      ...summary,
      configPath: def.configPath,
      ...(svc.binaryPath ? { binaryPath: svc.binaryPath } : {}),
      ...(svc.running && svc.startedAt ? { uptimeMs: Date.now() - svc.startedAt.getTime() } : {}),
      ...(svc.lastExit ? { lastExit: svc.lastExit } : {}),
    };
  }

  /** `upgrades list`: per service, running / linked / installed / quarantined versions (none in wrap mode). */
  upgrades(): ServiceUpgrades[] {
    const out: ServiceUpgrades[] = [];
    for (const [name, { svc }] of this.services) {
      const u = this.coordinator?.upgradesOf(name, svc.version);
      if (u) out.push(u);
    }
    return out;
  }

  /** `upgrades retry`: lifts the quarantine (QuarantineLifted with the actor) and tries the target again. */
  retryUpgrade(service: string, version: string | undefined, by: OperatorCommand | undefined): { host: string; service: string; lifted: string[] } {
    if (!this.coordinator) throw new Error('this runner follows no chain (wrap): nothing to retry');
    return { host: this.host, service, lifted: this.coordinator.retry(service, version, by) };
  }

  /** `upgrades rollback`: to an installed version, health-checked; the version left is quarantined. */
  async rollbackUpgrade(service: string, version: string, by: OperatorCommand | undefined): Promise<{ host: string; service: string; fromVersion: string; version: string; outcome: 'switched' | 'failed'; reason?: string }> {
    if (!this.coordinator) throw new Error('this runner follows no chain (wrap): nothing to roll back');
    const r = await this.coordinator.rollback(service, version, by);
    return { host: this.host, service, version, ...r };
  }

  /** Where `upgrades show` reads a service's history: the event stream, once the bus answered. */
  historySource(): HistorySource | undefined {
    const b = this.links.current;
    return b ? streamHistorySource({ js: b.nc.jetstream(), subjects: b.subjects, eventStreamName: this.links.config.eventStreamName }) : undefined;
  }

  /** ServiceControl over the bus: what the control socket's start/stop/restart do, with the operator as the actor of a stop. */
  async controlService(name: string, action: ServiceAction, actor: string): Promise<ServiceStatus | undefined> {
    const e = this.services.get(name);
    if (!e) return undefined;
    if (action === 'stop') await e.svc.stop('stopped by operator', actor);
    else if (action === 'start') await e.svc.start();
    else await e.svc.restart();
    return this.status(name);
  }

  /** The log file of a service this runner supervises (undefined: no such service). */
  logFileOf(name: string): string | undefined {
    return this.services.has(name) ? this.home.logFile(name) : undefined;
  }

  private async onControl(req: ControlRequest): Promise<unknown> {
    if (req.op === 'list') {
      const pending = this.pendingVerification();
      const admission = this.pendingAdmission();
      return { host: this.host, services: this.list(), ...(pending ? { pendingVerification: pending } : {}), ...(admission ? { pendingAdmission: admission } : {}) };
    }
    if (req.op === 'upgrades') return { host: this.host, services: this.upgrades() };
    if (req.op === 'add') return this.addService(validServiceName(req.service));
    if (req.op === 'password') return this.passwordStored(validServiceName(req.service));
    if (req.op === 'upgrades-show') return showUpgrades(this, validServiceName(req.service));
    const e = this.services.get(req.service);
    if (!e) throw new Error(`no service ${req.service}; this runner has: ${[...this.services.keys()].join(', ') || '(none)'}`);
    if (req.op === 'status') return { host: this.host, status: this.status(req.service) };
    if (req.op === 'stop') await e.svc.stop('stopped by operator', 'cli');
    else if (req.op === 'start') await e.svc.start();
    else await e.svc.restart();
    return { host: this.host, status: this.status(req.service) };
  }

  /**
   * Stops everything: with live-restore the services are left running for the next runner to adopt
   * (a restart or upgrade of the runner is no outage, ADR 0007), otherwise children get SIGTERM
   * (SIGKILL after the grace); the spool is flushed if the intake answers. Once: a second call
   * waits for the first.
   */
  stop(reason = 'runner shutdown'): Promise<void> {
    this.stopping ??= this.stopAll(reason);
    return this.stopping;
  }

  private async stopAll(reason: string): Promise<void> {
    await this.control?.stop();
    await this.follower?.stop();
    this.gate?.stop();
    await this.revocations?.stop();
    // Refusals not reported yet are recorded now, to leave with the spool.
    this.refusals.stop();
    this.admission?.stop();
    // The coordinator first: a canary that ends healthy during the stop lifts the quarantine, and
    // the upgrade it allows is left to the next start (no upgrade begins while stopping).
    await this.coordinator?.stop();
    await this.canary?.stop();
    if (this.liveRestore) for (const { svc } of this.services.values()) svc.leave();
    else await Promise.all([...this.services.values()].map(({ svc }) => (svc.running ? svc.stop(reason, 'service-runner') : Promise.resolve())));
    for (const { svc } of this.services.values()) svc.closeLog();
    for (const c of this.checks.values()) c.stop();
    this.heartbeat?.stop();
    // Only a runner that started (and so recorded HostOnline) says it went offline.
    if (this.heartbeat) this.recorder.recordIn(HostOffline, this.host, { host: this.host, process: 'service-runner', pid: process.pid, reason: reason.slice(0, 500) });
    await this.flusher.drain(3_000);
    await this.flusher.stop();
    this.log.info({ spooled: this.spool.count() }, 'service runner stopped');
  }
}

