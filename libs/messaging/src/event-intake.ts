// The central event intake (ADR 0006, issue 13 item 5). Hosts hold no database credentials: a
// service-runner sends the events it recorded to `<root>.cmd.event-intake.append.<host>`, and a
// central service appends them to the log for it. The subject's last token is the sending host,
// which the NATS permissions let only that host's runner publish on; this class makes sure the
// body agrees with it, so a host writes only its own streams:
//   - body.host equals the subject's host;
//   - every event passes the event catalog (shape, known type, data, stream of the type's area);
//   - its type belongs to the service or host area, its stream is `service-<host>/…` or
//     `host-<host>`, and metadata.host is the host.
// One failing event refuses the whole batch (`forbidden`, nothing appended): a runner only ever
// sends its own valid events, so a refusal means a misconfigured or hostile sender, never a partial
// success to reconcile. Appends are idempotent by event id (the log drops ids it holds), so a
// batch re-sent after a lost reply stores each event once; the reply says which ids were new.
//
// Plain class in libs/messaging (not libs/event-store): it is a bus command over the store, with
// the command bus's refusal type (CommandFailure) and the scoped subject; the store stays free of
// bus concepts. FleetCoreModule hosts it (option `eventIntake`), so any central service can serve
// it and replicas share the queue group.
import {
  CommandErrorCodes,
  EVENT_INTAKE_AREAS,
  EVENT_INTAKE_MAX_BYTES,
  fleetEvents,
  parseStreamName,
  type CommandRequestOf,
  type CommandResultOf,
  type EventCatalog,
  type EventEnvelope,
  EventIntakeAppend,
} from '@fleetvisor/contracts';
import type { AppendResult, StreamAppend } from '@fleetvisor/event-store/core';
import { DuplicateEventIdError } from '@fleetvisor/event-store/core';
import type { Logger } from '@fleetvisor/platform';
import { CommandFailure, type CommandBus, type CommandServer } from './command-bus';

/** What the intake needs of the log: PostgresEventStore. */
export interface EventIntakeStore {
  storedEventIds(ids: readonly string[]): Promise<Map<string, string>>;
  appendToStreams(batches: readonly StreamAppend[]): Promise<AppendResult[]>;
}

/** Why a batch was refused (the counters' keys). */
export type IntakeRefusal = 'host_mismatch' | 'invalid_event' | 'foreign_area' | 'foreign_stream' | 'foreign_metadata_host' | 'too_large' | 'id_elsewhere';

export interface EventIntakeOptions {
  store: EventIntakeStore;
  logger: Logger;
  /** Default: the fleet's event catalog. */
  catalog?: Pick<EventCatalog, 'parse' | 'get'>;
}

export type IntakeRequest = CommandRequestOf<typeof EventIntakeAppend>;
export type IntakeResult = CommandResultOf<typeof EventIntakeAppend>;

/** Where the request came from: the subject and the identity its last token names. */
export interface IntakeContext {
  subject: string;
  scope?: string;
}

const AREAS: readonly string[] = EVENT_INTAKE_AREAS;

export class EventIntake {
  private readonly catalog: Pick<EventCatalog, 'parse' | 'get'>;
  private readonly log: Logger;
  private readonly refusals = new Map<IntakeRefusal, number>();
  private readonly refusalListeners = new Set<(reason: IntakeRefusal, host: string) => void>();
  private appendedTotal = 0;
  private alreadyStoredTotal = 0;

  constructor(private readonly opts: EventIntakeOptions) {
    this.catalog = opts.catalog ?? fleetEvents;
    this.log = opts.logger.child({ component: 'event-intake' });
  }

  /** Calls `fn` once per refused batch (a service's metrics); returns the unsubscribe function. */
  onRefusal(fn: (reason: IntakeRefusal, host: string) => void): () => void {
    this.refusalListeners.add(fn);
    return () => this.refusalListeners.delete(fn);
  }

  /** Counters since start: refusals by reason, events appended, events that were stored already. */
  stats(): { refused: Record<string, number>; appended: number; alreadyStored: number } {
    return { refused: Object.fromEntries(this.refusals), appended: this.appendedTotal, alreadyStored: this.alreadyStoredTotal };
  }

  async append(request: IntakeRequest, ctx: IntakeContext): Promise<IntakeResult> {
    const host = request.host;
    if (ctx.scope === undefined || ctx.scope !== host) {
      throw this.refuse('host_mismatch', ctx, host, `the body names host "${host}" but the subject is for "${ctx.scope ?? '(none)'}"`);
    }
    const bytes = Buffer.byteLength(JSON.stringify(request.events));
    if (bytes > EVENT_INTAKE_MAX_BYTES) {
      throw this.refuse('too_large', ctx, host, `the events take ${bytes} bytes, more than ${EVENT_INTAKE_MAX_BYTES} in one request: send fewer at once`, CommandErrorCodes.invalidRequest);
    }
    const events: EventEnvelope[] = [];
    for (const [i, raw] of request.events.entries()) events.push(this.check(raw, i, host, ctx));
    const ids = new Set<string>();
    for (const e of events) {
      if (ids.has(e.id)) throw this.refuse('invalid_event', ctx, host, `event ${e.id} (${e.type}) appears twice in the batch`, 'forbidden', e);
      ids.add(e.id);
    }

    let stored: Map<string, string>;
    try {
      stored = await this.opts.store.storedEventIds([...ids]);
    } catch (e) {
      throw this.unavailable(e);
    }
    for (const e of events) {
      const where = stored.get(e.id);
      // An id the log holds in another stream: never this host's event (a replay of someone else's id).
      if (where !== undefined && where !== e.stream) throw this.refuse('id_elsewhere', ctx, host, `event id ${e.id} is stored in another stream`, CommandErrorCodes.conflict, e);
    }

    // One append per stream, in the order the host recorded them; all streams in one transaction.
    const byStream = new Map<string, EventEnvelope[]>();
    for (const e of events) {
      const list = byStream.get(e.stream);
      if (list) list.push(e);
      else byStream.set(e.stream, [e]);
    }
    try {
      await this.opts.store.appendToStreams([...byStream].map(([stream, list]) => ({ stream, events: list })));
    } catch (e) {
      if (e instanceof DuplicateEventIdError) throw this.refuse('id_elsewhere', ctx, host, e.message, CommandErrorCodes.conflict);
      throw this.unavailable(e);
    }
    const appended = events.filter((e) => !stored.has(e.id)).map((e) => e.id);
    const alreadyStored = events.filter((e) => stored.has(e.id)).map((e) => e.id);
    this.appendedTotal += appended.length;
    this.alreadyStoredTotal += alreadyStored.length;
    this.log.debug({ host, appended: appended.length, alreadyStored: alreadyStored.length }, 'host events appended');
    return { host, appended, alreadyStored };
  }

  /** One event of host `host`'s batch, validated, or the refusal of the batch. */
  private check(raw: unknown, index: number, host: string, ctx: IntakeContext): EventEnvelope {
    const parsed = this.catalog.parse(raw);
    const described = describe(raw);
    if (!parsed.ok) throw this.refuse('invalid_event', ctx, host, `event #${index}${described.id ? ` ${described.id}` : ''} is invalid: ${parsed.reason}`, 'forbidden', described);
    // The envelope as sent (not upcast): the log stores what the host recorded, as any append does.
    const e = raw as EventEnvelope;
    const area = this.catalog.get(e.type)?.area;
    if (area === undefined || !AREAS.includes(area)) {
      throw this.refuse('foreign_area', ctx, host, `event ${e.id}: ${e.type} is not an event a host records (only ${AREAS.join(' and ')} events)`, 'forbidden', e);
    }
    const { id } = parseStreamName(e.stream);
    const own = area === 'host' ? id === host : id.startsWith(`${host}/`);
    if (!own) throw this.refuse('foreign_stream', ctx, host, `event ${e.id}: stream "${e.stream}" is not one of host ${host}'s streams`, 'forbidden', e);
    if (e.metadata.host !== host) {
      throw this.refuse('foreign_metadata_host', ctx, host, `event ${e.id}: metadata.host is "${e.metadata.host ?? '(none)'}", not ${host}`, 'forbidden', e);
    }
    return e;
  }

  /** Counts and logs a refusal (subject, reason, the event's id and type, never its contents). */
  private refuse(reason: IntakeRefusal, ctx: IntakeContext, host: string, message: string, code: string = 'forbidden', event?: { id?: string; type?: string }): CommandFailure {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
    for (const fn of this.refusalListeners) fn(reason, host);
    this.log.warn(
      { subject: ctx.subject, host, reason, ...(event?.id ? { eventId: event.id } : {}), ...(event?.type ? { eventType: event.type } : {}) },
      `event batch refused: ${message}`,
    );
    return new CommandFailure(code, `event batch refused, nothing appended: ${message}`);
  }

  private unavailable(e: unknown): CommandFailure {
    this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'event log unreachable; host events not appended');
    return new CommandFailure(CommandErrorCodes.unavailable, `the event log is unreachable: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Id and type of a raw event for a log line, when they are short strings (never its data). */
function describe(raw: unknown): { id?: string; type?: string } {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const short = (v: unknown): string | undefined => (typeof v === 'string' && v.length <= 100 && /^[\w.-]+$/.test(v) ? v : undefined);
  const id = short(r['id']);
  const type = short(r['type']);
  return { ...(id ? { id } : {}), ...(type ? { type } : {}) };
}

/**
 * Serves the intake on `<root>.cmd.event-intake.append.*` in the service's queue group, without
 * Nest (tests, tools); Nest apps enable it with FleetCoreModule.forRoot({ eventIntake: true }).
 */
export function serveEventIntake(bus: CommandBus, intake: EventIntake): CommandServer {
  return bus.serve(EventIntakeAppend, (request, ctx) => intake.append(request, ctx), { scoped: true });
}
