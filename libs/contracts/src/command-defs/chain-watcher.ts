// chain-watcher commands. `status` (fleet.cmd.chain-watcher.status) is answered by any replica
// (queue group): it reports what it leads itself and asks each other chain's leader through
// `leader-status`, which only the current leader of a chain serves, addressed to that chain
// (fleet.cmd.chain-watcher.<chainId>.leader-status). So the answer is always the leader's view.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { ChainId, DateTime, DurationMs, HostName, Reason, StringEnum } from '../fields';
import { RolloutPolicySchema, RolloutServiceSchema } from '../events/rollout';
import { ENDPOINT_PATTERN, ProtocolVersionSchema } from '../events/chain';
import { MinerId } from '../events/proving';
import { EventEnvelopeSchema } from '../envelope';
import { FilecoinChainStatusSchema } from './proving-status';

const SERVICE = 'chain-watcher';

/** How the leader follows blocks: a WebSocket subscription, or polling while the socket is down. */
export const CHAIN_WATCH_MODES = ['websocket', 'polling', 'starting', 'no_leader'] as const;
export type ChainWatchMode = (typeof CHAIN_WATCH_MODES)[number];

const Endpoint = () => Type.String({ minLength: 4, maxLength: 512, pattern: ENDPOINT_PATTERN, description: 'RPC endpoint in use (credentials removed)' });
const Height = (description: string) => Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });

export const ChainStatusEntrySchema = Type.Object(
  {
    chainId: ChainId(),
    mode: StringEnum(CHAIN_WATCH_MODES, 'websocket, polling, starting, or no_leader when no replica leads this chain'),
    leaderHost: Type.Optional(HostName({ description: 'Host of the replica leading this chain' })),
    height: Type.Optional(Height('Latest block height processed')),
    lastBlockTime: Type.Optional(DateTime({ description: 'Header time of that block' })),
    lagMs: Type.Optional(DurationMs('Now minus the header time of the latest block')),
    version: Type.Optional(ProtocolVersionSchema),
    versionHeight: Type.Optional(Height('Height at which the current version was seen')),
    lastParamsQueryAt: Type.Optional(DateTime({ description: 'When Params were last queried' })),
    endpoint: Type.Optional(Endpoint()),
    preferredEndpoint: Type.Optional(Type.Boolean({ description: 'The endpoint in use is the first configured one' })),
    wsConnected: Type.Boolean({ description: 'The NewBlock WebSocket subscription is up' }),
    rpcErrors: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'RPC failures since the leader started' }),
    problems: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 32, description: 'Why the chain is degraded (empty when healthy)' }),
  },
  { additionalProperties: false, description: 'One chain as its leader sees it' },
);
export type ChainStatusEntry = Static<typeof ChainStatusEntrySchema>;

export const ChainStatus = defineCommand({
  service: SERVICE,
  verb: 'status',
  description: 'Every watched chain (or one) as its leading replica sees it: height, version, endpoint, lag, WebSocket or polling; the Filecoin chains of the proving watch too (epoch, ChainNotify or polling, leader, miners).',
  request: Type.Object({ chainId: Type.Optional(ChainId()) }, { additionalProperties: false }),
  result: Type.Object(
    {
      chains: Type.Array(ChainStatusEntrySchema, { maxItems: 1_000 }),
      // Present when the chain-watcher runs the Filecoin proving watch.
      filecoin: Type.Optional(Type.Array(FilecoinChainStatusSchema, { maxItems: 1_000 })),
    },
    { additionalProperties: false },
  ),
});

export const ChainLeaderStatus = defineCommand({
  service: SERVICE,
  verb: 'leader-status',
  description:
    'Internal: the status of one chain. Every replica hears it (no queue group); only the replica that leads the chain answers, the others stay silent.',
  request: Type.Object({ chainId: ChainId() }, { additionalProperties: false }),
  result: ChainStatusEntrySchema,
});

/**
 * The newest VersionChanged of a chain as the log stores it, for a host catching up once the event
 * stream no longer holds it (hosts cannot read the log). Returned unchanged, so that a signature
 * over the envelope can be checked by the host. Any replica answers (queue group).
 */
export const ChainVersionEvent = defineCommand({
  service: SERVICE,
  verb: 'version-event',
  description: 'The newest VersionChanged of one chain, the stored envelope unchanged (absent when the chain has none).',
  request: Type.Object({ chainId: ChainId() }, { additionalProperties: false }),
  result: Type.Object({ chainId: ChainId(), event: Type.Optional(EventEnvelopeSchema) }, { additionalProperties: false }),
});

// Fleet-wide rollout (ADR 0009). A runner asks for admission before it upgrades, on a scoped subject
// (fleet.cmd.chain-watcher.rollout-admit.<host>) that only its host's NATS credential may publish:
// the host in the subject is the identity the decision is recorded for. Any replica answers from
// the chain's rollout stream (decisions serialized by its expected version).
export const ROLLOUT_STATES = ['none', 'running', 'halted', 'aborted', 'completed'] as const;
export type RolloutStateName = (typeof ROLLOUT_STATES)[number];
export const ROLLOUT_HOST_STATES = ['waiting', 'admitted', 'healthy', 'failed'] as const;
export type RolloutHostStateName = (typeof ROLLOUT_HOST_STATES)[number];
export const ADMISSION_DECISIONS = ['admitted', 'wait', 'refused'] as const;

const RolloutServices = () => Type.Array(RolloutServiceSchema, { minItems: 1, maxItems: 1000 });

export const ChainRolloutAdmit = defineCommand({
  service: SERVICE,
  verb: 'rollout-admit',
  scope: 'host',
  description:
    'A runner asks whether its host may upgrade its services to the chain\'s current version now. admitted: go; wait: ask again later (retryAfterMs); ' +
    'refused: not this version (aborted rollout, or not the chain\'s current version). Only for the host the subject names.',
  request: Type.Object({ chainId: ChainId(), version: ProtocolVersionSchema, services: RolloutServices() }, { additionalProperties: false }),
  result: Type.Object(
    {
      decision: StringEnum(ADMISSION_DECISIONS),
      rolloutId: Type.Optional(Type.String({ minLength: 36, maxLength: 36 })),
      wave: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
      reason: Type.Optional(Reason()),
      retryAfterMs: Type.Optional(DurationMs('When asking again makes sense')),
    },
    { additionalProperties: false },
  ),
});

export const RolloutHostViewSchema = Type.Object(
  {
    host: HostName(),
    state: StringEnum(ROLLOUT_HOST_STATES),
    wave: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    since: Type.Optional(DateTime({ description: 'When it entered this state' })),
    reason: Type.Optional(Reason()),
    services: Type.Array(RolloutServiceSchema, { maxItems: 1000 }),
  },
  { additionalProperties: false },
);

export const RolloutViewSchema = Type.Object(
  {
    chainId: ChainId(),
    state: StringEnum(ROLLOUT_STATES),
    rolloutId: Type.Optional(Type.String({ minLength: 36, maxLength: 36 })),
    height: Type.Optional(Height('Height of the VersionChanged rolled out')),
    version: Type.Optional(ProtocolVersionSchema),
    startedAt: Type.Optional(DateTime()),
    endedAt: Type.Optional(DateTime({ description: 'Completed or aborted at' })),
    policy: Type.Optional(RolloutPolicySchema),
    wave: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000, description: 'Current wave (0: canary)' })),
    haltReason: Type.Optional(Reason()),
    abortReason: Type.Optional(Reason()),
    next: Type.Optional(Reason({ description: 'What the rollout waits for' })),
    waves: Type.Array(
      Type.Object(
        { wave: Type.Integer({ minimum: 0, maximum: 100_000 }), canary: Type.Boolean(), size: Type.Integer({ minimum: 1, maximum: 100_000 }), startedAt: DateTime(), hosts: Type.Array(HostName(), { maxItems: 100_000 }) },
        { additionalProperties: false },
      ),
      { maxItems: 100_000 },
    ),
    hosts: Type.Array(RolloutHostViewSchema, { maxItems: 100_000 }),
  },
  { additionalProperties: false, description: 'The newest rollout of one chain' },
);
export type RolloutView = Static<typeof RolloutViewSchema>;

export const ChainRolloutStatus = defineCommand({
  service: SERVICE,
  verb: 'rollout-status',
  description: 'The newest rollout of each watched chain (or one): waves, hosts and their state, why it halted or what it waits for.',
  request: Type.Object({ chainId: Type.Optional(ChainId()) }, { additionalProperties: false }),
  result: Type.Object({ rollouts: Type.Array(RolloutViewSchema, { maxItems: 1_000 }) }, { additionalProperties: false }),
});

export const ChainRolloutResume = defineCommand({
  service: SERVICE,
  verb: 'rollout-resume',
  role: 'operate',
  description: 'Resume a halted rollout (RolloutResumed with the signer as actor): failed hosts stay failed, the next wave may start. invalid_request unless halted.',
  request: Type.Object({ chainId: ChainId() }, { additionalProperties: false }),
  result: RolloutViewSchema,
});

export const ChainRolloutAbort = defineCommand({
  service: SERVICE,
  verb: 'rollout-abort',
  role: 'operate',
  description: 'Abort a running or halted rollout (RolloutAborted with the signer as actor): hosts not admitted stay on their version. invalid_request when none runs.',
  request: Type.Object({ chainId: ChainId(), reason: Type.Optional(Reason()) }, { additionalProperties: false }),
  result: RolloutViewSchema,
});

// The proving watch (issue 18): a miner's proving state read from its Filecoin chain's node at the
// moment of asking, what `fleetvisor proving info | deadlines | deadline N | faults` print. Any
// replica answers (queue group) from a node of the chain the miner is configured on. A query: no role.
const Epoch = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const SectorList = (description: string) => Type.Array(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), { maxItems: 100_000, description });

export const ProvingPartitionViewSchema = Type.Object(
  {
    partition: Type.Integer({ minimum: 0, maximum: 100_000 }),
    sectors: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Live sectors' }),
    active: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Active sectors (live, not faulty)' }),
    faulty: SectorList('Faulty sector numbers'),
    recovering: SectorList('Sector numbers declared recovering'),
  },
  { additionalProperties: false },
);

export const ProvingDeadlineViewSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0, maximum: 10_000 }),
    partitions: Type.Array(ProvingPartitionViewSchema, { maxItems: 3_000 }),
    provenPartitions: Type.Array(Type.Integer({ minimum: 0, maximum: 100_000 }), { maxItems: 3_000, description: 'PostSubmissions: partitions proven in the current window of this deadline' }),
  },
  { additionalProperties: false },
);

export const ProvingMinerViewSchema = Type.Object(
  {
    chainId: ChainId(),
    minerId: MinerId(),
    currentEpoch: Epoch('Chain head height'),
    periodStart: Epoch('Start of the current proving period'),
    deadlineIndex: Type.Integer({ minimum: 0, maximum: 10_000, description: 'The deadline open now' }),
    open: Epoch('Open epoch of the current deadline'),
    close: Epoch('Close epoch of the current deadline'),
    challenge: Type.Integer({ minimum: -1_000_000, maximum: Number.MAX_SAFE_INTEGER, description: 'Challenge epoch of the current deadline' }),
    faultCutoff: Type.Integer({ minimum: -1_000_000, maximum: Number.MAX_SAFE_INTEGER, description: 'Fault declaration cutoff of the current deadline' }),
    periodDeadlines: Type.Integer({ minimum: 1, maximum: 10_000 }),
    provingPeriod: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    challengeWindow: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    deadlines: Type.Array(ProvingDeadlineViewSchema, { maxItems: 10_000, description: 'Every deadline of the period, by index' }),
  },
  { additionalProperties: false, description: "One miner's proving state as its chain's node answers it now" },
);
export type ProvingMinerView = Static<typeof ProvingMinerViewSchema>;

export const ChainProvingMiner = defineCommand({
  service: SERVICE,
  verb: 'proving-miner',
  description: "One miner's proving state read from its Filecoin chain's node now: current deadline, every deadline's partitions, faults, recoveries, proven partitions.",
  request: Type.Object({ minerId: ProvingMinerViewSchema.properties.minerId }, { additionalProperties: false }),
  result: ProvingMinerViewSchema,
});
