// The daily checks of one supervised service, as a venus operator does them by hand: its output
// watched for known trouble (ServiceNeedsAttention with the remedy), its own health probe run while
// it runs, and — for a service that takes its password through its API (venus-wallet) — the stored
// password delivered after every start and again when the operator stores a new one.
// Why the API and not stdin for venus-wallet: `venus-wallet run` reads no password from its
// terminal; it takes one as `run --password` (an argument: visible in /proc/<pid>/cmdline, never
// used here) or later through its JSON-RPC `Filecoin.SetPassword` / `Filecoin.Unlock` (admin
// token), which is what `venus-wallet setpwd` and `unlock` call. Unlock sets the password when the
// wallet holds none and unlocks it otherwise, so it is right after a start and after a restart.
import { ServiceNeedsAttention } from '@fleetvisor/contracts';
import type { Logger } from '@fleetvisor/platform';
import type { EventRecorder } from '../events/event-recorder';
import type { ServiceDefinition } from '../home/runner-home';
import { AttentionWatch, excerptOf, rulesFor, type OpenProblem } from './attention';
import { describeProbe, jsonRpcCall, readToken, runProbe, type ProbeResult } from './service-probe';

export interface ServiceHealth {
  ok: boolean;
  probe: string;
  detail?: string;
  at: string;
}

export interface ServiceChecksOptions {
  def: ServiceDefinition;
  recorder: EventRecorder;
  logger: Logger;
  /** The password stored for this service (its own, else the keyring one); undefined: none. */
  password: () => string | undefined;
  /** The pid of the current process, when one runs. */
  pid: () => number | undefined;
  /** Wait between two delivery attempts while the API does not answer yet, and how many attempts. */
  deliveryRetryMs?: number;
  deliveryAttempts?: number;
  repeatMs?: number;
}

type Delivery = 'none' | 'pending' | 'delivered' | 'failed';

const DELIVERY_PATTERN = 'password-delivery';

export class ServiceChecks {
  readonly watch: AttentionWatch;
  health: ServiceHealth | undefined;
  private delivery: Delivery = 'none';
  private run = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly o: ServiceChecksOptions) {
    this.log = o.logger.child({ service: o.def.name });
    this.watch = new AttentionWatch({
      service: o.def.name,
      rules: rulesFor(o.def.kind, o.def.attention),
      onProblem: (p) => this.onProblem(p),
      secrets: () => {
        const pw = o.password();
        return pw ? [pw] : [];
      },
      ...(o.repeatMs !== undefined ? { repeatMs: o.repeatMs } : {}),
    });
  }

  /** The password goes through the service's API (not typed at a prompt). */
  get deliversByApi(): boolean {
    return this.o.def.keyringPassword && this.o.def.passwordVia === 'json-rpc';
  }

  /** Whether output must be watched at all (patterns to match). */
  get watchesOutput(): boolean {
    return this.watch.active;
  }

  /** A process of the service started (or was adopted): a new run. */
  onRunStart(): void {
    this.run++;
    this.watch.newRun();
    this.delivery = 'none';
    this.health = undefined;
    this.clearRetry();
    if (this.deliversByApi && this.o.password() !== undefined) this.deliver();
    this.startProbe();
  }

  /** The process ended: nothing to probe or deliver until the next run. */
  onRunEnd(): void {
    this.clearRetry();
    this.stopProbe();
  }

  /** A new password was stored for this service: delivered at once to the running process. */
  passwordChanged(): 'delivering' | 'next-start' {
    if (!this.deliversByApi || this.o.pid() === undefined) return 'next-start';
    this.clearRetry();
    this.delivery = 'none';
    this.deliver();
    return 'delivering';
  }

  /** Problems of the current run (services list/status). */
  attention(): { problem: string; remedy: string; pattern: string; since: string }[] {
    return this.watch.current().map((p) => ({ problem: p.rule.problem, remedy: p.remedy, pattern: p.rule.id, since: p.since.toISOString() }));
  }

  stop(): void {
    this.stopped = true;
    this.onRunEnd();
  }

  private onProblem(p: OpenProblem): boolean {
    // The runner applies this remedy itself when it holds the password: reported only when that fails.
    if (p.rule.remedyKind === 'set-password' && this.deliversByApi && this.o.password() !== undefined && this.delivery !== 'failed') {
      if (this.delivery === 'none') this.deliver();
      return false;
    }
    this.record(p.rule.id, p.rule.problem, p.remedy, p.excerpt);
    return true;
  }

  private record(pattern: string, problem: string, remedy: string, excerpt: string): void {
    const pid = this.o.pid();
    this.o.recorder.record(ServiceNeedsAttention, { host: this.o.recorder.host, service: this.o.def.name, problem, remedy, pattern, excerpt, ...(pid !== undefined ? { pid } : {}) });
    this.log.warn({ problem, remedy, pattern }, 'service needs attention');
  }

  private deliver(attempt = 1): void {
    const probe = this.o.def.probe;
    const password = this.o.password();
    if (this.stopped || probe?.type !== 'json-rpc' || !probe.tokenFile || password === undefined) return;
    this.delivery = 'pending';
    const run = this.run;
    const method = this.o.def.passwordMethod ?? 'Filecoin.Unlock';
    const retry = this.o.deliveryRetryMs ?? 500;
    const attempts = this.o.deliveryAttempts ?? 120;
    void (async () => {
      let failure: string | undefined;
      let again = false;
      try {
        const a = await jsonRpcCall(probe.address, probe.path, method, [password], readToken(probe.tokenFile!));
        // "wallet already unlocked": it holds this password already (venus-wallet storage/keymix.go).
        if (a.error && !/already unlocked/i.test(a.error.message ?? '')) failure = `${method}: ${a.error.message ?? 'error'}`;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Not listening yet (just started): asked again.
        if (code === 'ECONNREFUSED' || code === 'ECONNRESET') again = true;
        failure = (e as Error).message;
      }
      if (this.stopped || run !== this.run) return;
      if (again && attempt < attempts) {
        this.retryTimer = setTimeout(() => this.deliver(attempt + 1), retry);
        return;
      }
      if (failure === undefined) {
        this.delivery = 'delivered';
        const cleared = this.watch.clear('set-password');
        this.log.info({ method, cleared: cleared.map((p) => p.rule.id) }, 'stored password delivered through the service API');
        return;
      }
      this.delivery = 'failed';
      const reason = excerptOf(failure, [password]);
      this.log.warn({ method, reason }, 'the stored password could not be delivered');
      // A refused token is not the password's fault: the remedy is the token file.
      if (/permission|HTTP 401|token/i.test(failure)) {
        this.record(DELIVERY_PATTERN, `the runner cannot call ${method}: ${reason}`.slice(0, 300), `put the admin token (venus-wallet auth api-info --perm admin) in ${probe.tokenFile}`.slice(0, 500), reason);
        return;
      }
      const open = this.watch.current().filter((p) => p.rule.remedyKind === 'set-password');
      for (const p of open) this.watch.report(p.rule.id);
      if (open.length === 0) this.record(DELIVERY_PATTERN, `the stored password was not accepted through ${method}: ${reason}`.slice(0, 300), `fleetvisor secrets set-password ${this.o.def.name}`, reason);
    })();
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private startProbe(): void {
    const probe = this.o.def.probe;
    if (!probe || this.probeTimer || this.stopped) return;
    const tick = (): void => {
      if (this.probing || this.o.pid() === undefined) return;
      this.probing = true;
      void runProbe(probe)
        .then((r: ProbeResult) => {
          this.health = { ok: r.ok, probe: describeProbe(probe), ...(r.detail ? { detail: r.detail } : {}), at: new Date().toISOString() };
        })
        .finally(() => (this.probing = false));
    };
    this.probeTimer = setInterval(tick, probe.everyMs);
    this.probeTimer.unref();
    tick();
  }

  private stopProbe(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }
}
