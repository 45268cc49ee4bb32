// Fleet-wide rollout of a chain's version change (ADR 0009): canary hosts first, then waves of at
// most max_parallel hosts, each after the previous one has been healthy for min_healthy_time; a
// failure halts it fleet-wide. Stream: chain-<chainId>/rollout (one per chain: every rollout of the
// chain, in order; the state is the fold of the newest RolloutStarted and what follows it).
import { Type, type Static } from '@sinclair/typebox';
import { defineEvent } from '../define-event';
import { Actor, ChainId, DateTime, DurationMs, HostName, Reason, ServiceName, StrictVersion } from '../fields';
import { ProtocolVersionSchema } from './chain';

const stream = { streamPattern: 'chain-<chainId>/rollout', streamId: (d: { chainId: string }) => `${d.chainId}/rollout` };

/** The rollout's id: the id of the VersionChanged it rolls out. */
const RolloutId = () => Type.String({ minLength: 36, maxLength: 36, pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: 'Id of the VersionChanged this rollout rolls out' });
const Wave = () => Type.Integer({ minimum: 0, maximum: 100_000, description: 'Wave number: 0 is the canary wave, 1.. the waves after it' });

export const RolloutPolicySchema = Type.Object(
  {
    canary: Type.Integer({ minimum: 0, maximum: 10_000, description: 'How many hosts form the canary wave (the first to ask); 0 with no canaryHosts: no canary wave' }),
    canaryHosts: Type.Array(HostName(), { maxItems: 1000, description: 'Named canary hosts (replace the count when given)' }),
    maxParallel: Type.Integer({ minimum: 0, maximum: 100_000, description: 'Hosts upgrading at once in a wave after the canary; 0 = all' }),
    minHealthyMs: DurationMs('How long every host of a wave must have been healthy before the next wave starts'),
    healthyDeadlineMs: DurationMs('How long an admitted host may take to report healthy before the rollout halts'),
    autoRevert: Type.Boolean({ description: 'Recorded for the operator; hosts are not rolled back automatically yet (ADR 0009)' }),
  },
  { additionalProperties: false, description: 'The rollout policy in force when the rollout started' },
);
export type RolloutPolicy = Static<typeof RolloutPolicySchema>;

export const RolloutServiceSchema = Type.Object(
  { service: ServiceName(), toVersion: StrictVersion({ description: 'Version the service upgrades to' }) },
  { additionalProperties: false },
);

export const RolloutStarted = defineEvent({
  type: 'RolloutStarted',
  area: 'chain',
  description: 'A version change of the chain started rolling across the hosts (the first host asked for admission).',
  ...stream,
  schema: Type.Object(
    {
      chainId: ChainId(),
      rolloutId: RolloutId(),
      height: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Height of the VersionChanged' }),
      version: ProtocolVersionSchema,
      policy: RolloutPolicySchema,
    },
    { additionalProperties: false },
  ),
});

export const RolloutWaveStarted = defineEvent({
  type: 'RolloutWaveStarted',
  area: 'chain',
  description: 'A wave of the rollout opened: hosts asking now are admitted into it, up to its size.',
  ...stream,
  schema: Type.Object(
    {
      chainId: ChainId(),
      rolloutId: RolloutId(),
      wave: Wave(),
      canary: Type.Boolean({ description: 'The canary wave' }),
      size: Type.Integer({ minimum: 1, maximum: 100_000, description: 'Most hosts it admits' }),
    },
    { additionalProperties: false },
  ),
});

export const RolloutHostAdmitted = defineEvent({
  type: 'RolloutHostAdmitted',
  area: 'chain',
  description: 'A host may upgrade its services now (its runner asked for its own host on its scoped subject).',
  ...stream,
  schema: Type.Object(
    {
      chainId: ChainId(),
      rolloutId: RolloutId(),
      wave: Wave(),
      host: HostName(),
      services: Type.Array(RolloutServiceSchema, { minItems: 1, maxItems: 1000, description: 'What the host said it upgrades' }),
    },
    { additionalProperties: false },
  ),
});

export const RolloutHostWaiting = defineEvent({
  type: 'RolloutHostWaiting',
  area: 'chain',
  description: 'A host asked for admission and must wait (recorded once per host and rollout, so the rollout knows every host that takes part).',
  ...stream,
  schema: Type.Object(
    {
      chainId: ChainId(),
      rolloutId: RolloutId(),
      host: HostName(),
      services: Type.Array(RolloutServiceSchema, { minItems: 1, maxItems: 1000 }),
      reason: Reason(),
    },
    { additionalProperties: false },
  ),
});

export const RolloutHostHealthy = defineEvent({
  type: 'RolloutHostHealthy',
  area: 'chain',
  description: 'Every service an admitted host upgrades reported ServiceUpgraded: healthy since `since`.',
  ...stream,
  schema: Type.Object(
    {
      chainId: ChainId(),
      rolloutId: RolloutId(),
      host: HostName(),
      since: DateTime({ description: 'When its last service became healthy (its ServiceUpgraded)' }),
    },
    { additionalProperties: false },
  ),
});

export const RolloutHalted = defineEvent({
  type: 'RolloutHalted',
  area: 'chain',
  description: 'The rollout stopped admitting hosts: a host failed its upgrade or missed its deadline. `rollout resume` or `rollout abort` decides.',
  ...stream,
  schema: Type.Object(
    {
      chainId: ChainId(),
      rolloutId: RolloutId(),
      host: HostName({ description: 'The host that failed' }),
      service: Type.Optional(ServiceName({ description: 'Its service that failed, when one did' })),
      reason: Reason(),
    },
    { additionalProperties: false },
  ),
});

export const RolloutResumed = defineEvent({
  type: 'RolloutResumed',
  area: 'chain',
  description: 'An operator resumed a halted rollout: the failed hosts stay failed, the next wave may start.',
  ...stream,
  schema: Type.Object({ chainId: ChainId(), rolloutId: RolloutId(), actor: Actor() }, { additionalProperties: false }),
});

export const RolloutAborted = defineEvent({
  type: 'RolloutAborted',
  area: 'chain',
  description: 'The rollout ended without reaching every host: by an operator, or superseded by a newer version change. Hosts not admitted stay on their version.',
  ...stream,
  schema: Type.Object({ chainId: ChainId(), rolloutId: RolloutId(), actor: Type.Optional(Actor()), reason: Reason() }, { additionalProperties: false }),
});

export const RolloutCompleted = defineEvent({
  type: 'RolloutCompleted',
  area: 'chain',
  description: 'Every host that asked was admitted and has been healthy for min_healthy_time.',
  ...stream,
  schema: Type.Object(
    {
      chainId: ChainId(),
      rolloutId: RolloutId(),
      hosts: Type.Integer({ minimum: 0, maximum: 100_000, description: 'Hosts healthy on the new version' }),
      failed: Type.Integer({ minimum: 0, maximum: 100_000, description: 'Hosts that failed (the rollout was resumed past them)' }),
    },
    { additionalProperties: false },
  ),
});
