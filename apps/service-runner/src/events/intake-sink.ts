// The spool's sink: the central event intake over the bus (<root>.cmd.event-intake.append.<host>,
// ADR 0006). The host holds no database credentials; a central service checks the batch is this
// host's and appends it, idempotently by event id.
import { CommandErrorCodes, EventIntakeAppend, type EventEnvelope } from '@fleetvisor/contracts';
import type { CommandBus } from '@fleetvisor/messaging/core';
import type { EventSink } from './event-spool';

/** The intake refused the batch for good (forbidden, conflict, invalid): sending it again changes nothing. */
export class IntakeRefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'IntakeRefusedError';
  }
}

/** Refusals that a retry cannot turn into a success; anything else (timeout, unavailable, internal) is retried. */
const FOR_GOOD = new Set<string>(['forbidden', CommandErrorCodes.conflict, CommandErrorCodes.invalidRequest]);

export class IntakeSink implements EventSink {
  constructor(
    private readonly commands: Pick<CommandBus, 'request'>,
    private readonly host: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async append(events: readonly EventEnvelope[]): Promise<void> {
    const reply = await this.commands.request(EventIntakeAppend, { host: this.host, events: [...events] }, { scope: this.host, timeoutMs: this.timeoutMs });
    if (reply.ok) return;
    const { code, message } = reply.error;
    if (FOR_GOOD.has(code)) throw new IntakeRefusedError(code, `${code}: ${message}`);
    throw new Error(`event intake: ${code}: ${message}`);
  }
}

export const isIntakeRefusal = (e: unknown): boolean => e instanceof IntakeRefusedError;
