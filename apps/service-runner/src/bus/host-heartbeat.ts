// The runner's liveness heartbeat (issue 14): every interval it tells the worker-registry its host
// is alive on `<root>.cmd.worker-registry.host-heartbeat.<host>` (scoped: a NATS permission lets
// only this host's runner publish there). A heartbeat is not an event: only the registry's verdicts
// (HostExpired / HostReturned) are recorded. While NATS is down it is skipped quietly: the silence
// is exactly what the registry is there to notice.
import { HostHeartbeat } from '@fleetvisor/contracts';
import type { CommandBus } from '@fleetvisor/messaging/core';
import { fleetvisorVersion, type Logger } from '@fleetvisor/platform';

export interface HostHeartbeatOptions {
  host: string;
  intervalMs: number;
  /** The bus once NATS answered; undefined while it is down. */
  commands: () => Pick<CommandBus, 'request'> | undefined;
  /** Services the runner supervises now. */
  services: () => number;
  logger: Logger;
}

export class HostHeartbeatSender {
  private timer: NodeJS.Timeout | undefined;
  private sending = false;
  private warned = false;

  constructor(private readonly opts: HostHeartbeatOptions) {}

  /** Sends one now and then every interval (an interval of 0 sends none). */
  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.opts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One heartbeat; true when the registry answered. Never throws. */
  async beat(): Promise<boolean> {
    const commands = this.opts.commands();
    if (!commands || this.sending) return false;
    this.sending = true;
    try {
      const { host } = this.opts;
      const body = { host, fleetvisorVersion: fleetvisorVersion().slice(0, 100) || 'unknown', services: this.opts.services(), sentAt: new Date().toISOString() };
      const reply = await commands.request(HostHeartbeat, body, { scope: host, timeoutMs: Math.max(1_000, Math.min(10_000, this.opts.intervalMs)) });
      if (reply.ok) {
        this.warned = false;
        return true;
      }
      // Once per streak: no registry running is a normal set-up (a lone host), not an error to repeat.
      if (!this.warned) this.opts.logger.warn({ code: reply.error.code, reason: reply.error.message }, 'host heartbeat not accepted by the worker-registry');
      this.warned = true;
      return false;
    } catch (e) {
      if (!this.warned) this.opts.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'host heartbeat not sent');
      this.warned = true;
      return false;
    } finally {
      this.sending = false;
    }
  }
}
