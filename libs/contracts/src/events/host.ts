// Host lifecycle: a Fleetvisor process coming up or going down on a host.
import { Type } from '@sinclair/typebox';
import { defineEvent } from '../define-event';

export const HostOnline = defineEvent({
  type: 'HostOnline',
  area: 'host',
  description: 'A Fleetvisor process started on a host and reached the log.',
  schema: Type.Object(
    {
      host: Type.String({ minLength: 1, maxLength: 253 }),
      process: Type.String({ minLength: 1, maxLength: 100, description: 'which Fleetvisor process, e.g. cli-up, service-runner' }),
      pid: Type.Integer({ minimum: 1 }),
      fleetvisorVersion: Type.String(),
    },
    { additionalProperties: false },
  ),
});

export const HostOffline = defineEvent({
  type: 'HostOffline',
  area: 'host',
  description: 'A Fleetvisor process on a host shut down cleanly.',
  schema: Type.Object(
    {
      host: Type.String({ minLength: 1, maxLength: 253 }),
      process: Type.String({ minLength: 1, maxLength: 100 }),
      pid: Type.Integer({ minimum: 1 }),
      reason: Type.String({ maxLength: 500 }),
    },
    { additionalProperties: false },
  ),
});
