// Host lifecycle: a Fleetvisor process coming up or going down on a host. Stream: host-<host> by
// convention (not enforced: benches and tools append host events to streams of their own).
import { Type } from '@sinclair/typebox';
import { defineEvent } from '../define-event';

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
