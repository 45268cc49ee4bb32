// The central event intake (ADR 0006): hosts hold no database credentials, so a service-runner
// sends the events it recorded to `<root>.cmd.event-intake.append.<host>`, a scoped command whose
// last subject token is the sending host (a NATS permission lets only that host's runner publish
// there). A central service (worker-registry, chain-watcher) checks every event belongs to that
// host and appends the batch to the log, idempotently by event id.
import { Type } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { HostName } from '../fields';
import { UUID_PATTERN } from '../uuid';

/** Events in one append request: what the runner's spool flusher sends at most. */
export const EVENT_INTAKE_MAX_EVENTS = 100;
/**
 * Bytes of the events of one request (their JSON): well below the 512 KiB message limit of the
 * event stream and NATS's default 1 MiB payload, so a full batch always fits one request.
 */
export const EVENT_INTAKE_MAX_BYTES = 256 * 1024;
/** The event areas a host may write: its services and its own host stream. */
export const EVENT_INTAKE_AREAS = ['service', 'host'] as const;

const EventId = () => Type.String({ pattern: UUID_PATTERN, description: 'Event id' });

export const EventIntakeAppend = defineCommand({
  service: 'event-intake',
  verb: 'append',
  scope: 'host',
  description:
    "A host's events for the log. Refused whole (forbidden, nothing appended) unless host equals the subject's host and every event is valid, " +
    'in service-<host>/… or host-<host>, with metadata.host = host. Idempotent by event id: a re-sent batch stores each event once.',
  request: Type.Object(
    {
      host: HostName({ description: 'The sending host; must equal the last token of the subject' }),
      // Envelopes are checked one by one by the intake (catalog, stream, host), so a refusal names the
      // event and is counted; here only the bound is kept.
      events: Type.Array(Type.Unknown({ description: 'An event envelope' }), { minItems: 1, maxItems: EVENT_INTAKE_MAX_EVENTS }),
    },
    { additionalProperties: false },
  ),
  result: Type.Object(
    {
      host: HostName(),
      appended: Type.Array(EventId(), { maxItems: EVENT_INTAKE_MAX_EVENTS, description: 'Ids stored by this request' }),
      alreadyStored: Type.Array(EventId(), { maxItems: EVENT_INTAKE_MAX_EVENTS, description: 'Ids the log held already (a re-sent batch)' }),
    },
    { additionalProperties: false },
  ),
});
