// Host lifecycle: a Fleetvisor process coming up or going down on a host. Stream: host-<host> by
// convention (not enforced: benches and tools append host events to streams of their own).
import { Type } from '@sinclair/typebox';
import { defineEvent } from '../define-event';
import { DateTime, DurationMs, HostName } from '../fields';

/** HostOnline data as first published (version 1). Kept unchanged: it is on the bus and in logs. */
export const HostOnlineV1Schema = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253 }),
    process: Type.String({ minLength: 1, maxLength: 100, description: 'which Fleetvisor process, e.g. cli-up, service-runner' }),
    pid: Type.Integer({ minimum: 1 }),
    fleetvisorVersion: Type.String(),
  },
  { additionalProperties: false },
);

export const FLEETVISOR_VERSION_MAX_LENGTH = 100;

/**
 * HostOnline version 2 bounds `fleetvisorVersion` to 1..100 characters.
 *
 * Why: version 1 accepted any string, empty or megabytes long, and events must not carry
 * unbounded strings (they are stored forever and fanned out to every subscriber). The shape is
 * unchanged, so producers compile as before, but the published schema changes, so the version
 * is bumped (docs/events.md: every schema change is a new version).
 *
 * Upcast v1 -> v2: cut `fleetvisorVersion` to 100 characters and turn an empty one into
 * "unknown", so that every valid v1 event reads as a valid v2 event; the rest is unchanged.
 */
export function upcastHostOnlineV1(data: unknown): unknown {
  const v1 = data as { fleetvisorVersion: string };
  return { ...v1, fleetvisorVersion: v1.fleetvisorVersion.slice(0, FLEETVISOR_VERSION_MAX_LENGTH) || 'unknown' };
}

export const HostOnline = defineEvent({
  type: 'HostOnline',
  area: 'host',
  version: 2,
  description: 'A Fleetvisor process started on a host and reached the log.',
  streamPattern: 'host-<host>',
  schema: Type.Object(
    {
      host: Type.String({ minLength: 1, maxLength: 253, description: 'Host the process runs on' }),
      process: Type.String({ minLength: 1, maxLength: 100, description: 'which Fleetvisor process, e.g. cli-up, service-runner' }),
      pid: Type.Integer({ minimum: 1, description: 'Operating system process id' }),
      fleetvisorVersion: Type.String({ minLength: 1, maxLength: FLEETVISOR_VERSION_MAX_LENGTH, description: 'Fleetvisor version of the process' }),
    },
    { additionalProperties: false },
  ),
  previousSchemas: { 1: HostOnlineV1Schema },
  upcasters: { 1: upcastHostOnlineV1 },
});

export const HostOffline = defineEvent({
  type: 'HostOffline',
  area: 'host',
  description: 'A Fleetvisor process on a host shut down cleanly.',
  streamPattern: 'host-<host>',
  schema: Type.Object(
    {
      host: Type.String({ minLength: 1, maxLength: 253, description: 'Host the process ran on' }),
      process: Type.String({ minLength: 1, maxLength: 100, description: 'which Fleetvisor process' }),
      pid: Type.Integer({ minimum: 1, description: 'Operating system process id' }),
      reason: Type.String({ maxLength: 500, description: 'Why it shut down' }),
    },
    { additionalProperties: false },
  ),
});

/**
 * A runner host stopped sending its heartbeat for longer than the expiration (the worker-registry
 * watches heartbeats). Recorded once per silence; HostReturned ends it, HostOffline (a clean stop)
 * never expires.
 */
export const HostExpired = defineEvent({
  type: 'HostExpired',
  area: 'host',
  description: 'A runner host sent no heartbeat for longer than the expiration: it is silent, not known to be down.',
  streamPattern: 'host-<host>',
  streamId: (d: { host: string }) => d.host,
  schema: Type.Object(
    {
      host: HostName({ description: 'The silent host' }),
      lastSeen: DateTime({ description: 'Its last heartbeat' }),
      silentMs: DurationMs('How long it had been silent when expired'),
    },
    { additionalProperties: false },
  ),
});

export const HostReturned = defineEvent({
  type: 'HostReturned',
  area: 'host',
  description: 'An expired host sent a heartbeat again.',
  streamPattern: 'host-<host>',
  streamId: (d: { host: string }) => d.host,
  schema: Type.Object(
    {
      host: HostName({ description: 'The host that returned' }),
      lastSeen: DateTime({ description: 'Its last heartbeat before the silence' }),
      absentMs: DurationMs('How long it was silent'),
    },
    { additionalProperties: false },
  ),
});

/** What was refused: a chain event, a command, or a report (ADR 0006). */
export const REFUSAL_KINDS = ['event', 'command', 'report'] as const;
export type RefusalKind = (typeof REFUSAL_KINDS)[number];

/**
 * A host (or a central service) refused something it could not verify: an unsigned or forged chain
 * event, a command without a valid identity, a report for another identity. At most one per source
 * per minute (RefusalReporter in @fleetvisor/trust), so a flood of forgeries cannot flood the log:
 * `refused` counts every refusal of the source since its previous report, this one included.
 */
export const ForgeryRejected = defineEvent({
  type: 'ForgeryRejected',
  area: 'host',
  description: 'Something that could not be verified was refused (a forged chain event, a command without valid identity): the last one refused and how many since the previous report of the same source.',
  streamPattern: 'host-<host>',
  streamId: (d: { host: string }) => d.host,
  schema: Type.Object(
    {
      host: Type.String({ minLength: 1, maxLength: 253, description: 'Host (or central service instance) that refused it' }),
      kind: Type.Union(REFUSAL_KINDS.map((k) => Type.Literal(k)), { description: 'What was refused' }),
      source: Type.String({ minLength: 1, maxLength: 300, description: 'Where the refused messages came from (an event stream, a command subject): one report per source per minute' }),
      subject: Type.String({ minLength: 1, maxLength: 300, description: 'Subject (or stream and type) of the last refused message' }),
      reason: Type.String({ minLength: 1, maxLength: 1000, description: 'Why the last one was refused' }),
      refused: Type.Integer({ minimum: 1, description: 'Refusals of this source since its previous report, this one included' }),
      eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Id of the last refused event or command, as it claimed' })),
      signerName: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Name in the certificate that came with it (not verified)' })),
      signerKid: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Key id in the certificate that came with it (not verified)' })),
    },
    { additionalProperties: false },
  ),
});
