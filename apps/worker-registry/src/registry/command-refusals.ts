// Commands the registry refused (unsigned, bad or expired signature, revoked key, replay, too weak a
// role): counted and logged by the bus, and recorded as ForgeryRejected on this host's stream at
// most once per source per minute (RefusalReporter), so a flood of forged commands cannot flood the log.
import { ForgeryRejected, newEventFor } from '@fleetvisor/contracts';
import { commandRefusalReport, type CommandRefusal } from '@fleetvisor/messaging';
import type { Logger } from '@fleetvisor/platform';
import { forgeryRejectedData, RefusalReporter } from '@fleetvisor/trust';

/** Where the reports go: the log (an append that may fail; a lost report is only a lost count). */
export interface RefusalLog {
  appendToStream(stream: string, events: readonly ReturnType<typeof newEventFor>[]): Promise<unknown>;
}

export class CommandRefusals {
  readonly reporter: RefusalReporter;

  constructor(host: string, log: RefusalLog, logger: Logger) {
    this.reporter = new RefusalReporter({
      logger,
      onReport: (r) => {
        const event = newEventFor(ForgeryRejected, forgeryRejectedData(host, r), { host, actor: 'worker-registry' });
        log.appendToStream(event.stream, [event]).catch((e: unknown) => logger.warn({ err: (e as Error).message }, 'could not record ForgeryRejected'));
      },
    });
  }

  refuse(r: CommandRefusal): void {
    this.reporter.refuse(commandRefusalReport(r));
  }

  stop(): void {
    this.reporter.stop();
  }

  /** Nest's shutdown hook (the provider is a plain instance of this class). */
  onModuleDestroy(): void {
    this.stop();
  }
}
