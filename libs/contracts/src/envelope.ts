// The event envelope: the one shape every fact in Fleetvisor travels in, in the log and on the bus.
import { Type, type Static } from '@sinclair/typebox';
import { UUID_PATTERN } from './uuid';
import { EventProofSchema } from './trust';

export const EventMetadataSchema = Type.Object(
  {
    correlationId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Groups every event of one operation (e.g. one upgrade)' })),
    causationId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Id of the event or command that caused this one' })),
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: 'Host of the process that recorded it' })),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Who asked for it (user or service), never a credential' })),
    proof: Type.Optional(EventProofSchema),
  },
  { additionalProperties: false, description: 'Tracing and audit information; never a secret' },
);
export type EventMetadata = Static<typeof EventMetadataSchema>;

/** Stream names: `<area>-<id>`, e.g. `chain-lava-testnet-2`, `service-host1/consumer-ETH1`. */
export const STREAM_NAME_PATTERN = '^(chain|service|worker|host|stats|system|miner)-[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$';

export const EventEnvelopeSchema = Type.Object(
  {
    id: Type.String({ pattern: UUID_PATTERN, description: 'Event id, UUID v7; also the Nats-Msg-Id' }),
    type: Type.String({ pattern: '^[A-Z][A-Za-z0-9]{1,99}$', description: 'Event type, e.g. VersionChanged' }),
    stream: Type.String({ pattern: STREAM_NAME_PATTERN, description: 'Stream <area>-<id>, e.g. chain-lava-testnet-2' }),
    /** Schema version of `data` for this event type (starts at 1; older versions are upcast on read). */
    version: Type.Integer({ minimum: 1, description: 'Schema version of data for this type' }),
    data: Type.Unknown({ description: 'The event data; its schema depends on type and version' }),
    metadata: EventMetadataSchema,
    occurredAt: Type.String({ format: 'date-time', description: 'When it happened (ISO 8601, UTC)' }),
  },
  { additionalProperties: false },
);

export interface EventEnvelope<TType extends string = string, TData = unknown> {
  id: string;
  type: TType;
  stream: string;
  version: number;
  data: TData;
  metadata: EventMetadata;
  occurredAt: string;
}

/** An event as read back from the log: the envelope plus where it sits. */
export interface RecordedEvent<TType extends string = string, TData = unknown> extends EventEnvelope<TType, TData> {
  /** Position of the event inside its stream, starting at 1. */
  streamVersion: number;
  /** Global position (bigserial); ordering across streams uses `checkpoint`, not this alone. */
  globalPosition: string;
  /** Gap-free global ordering key: `<transaction_id>:<global_position>`. */
  checkpoint: string;
}
