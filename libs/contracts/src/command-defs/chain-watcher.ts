// chain-watcher commands. `status` (fleet.cmd.chain-watcher.status) is answered by any replica
// (queue group): it reports what it leads itself and asks each other chain's leader through
// `leader-status`, which only the current leader of a chain serves, addressed to that chain
// (fleet.cmd.chain-watcher.<chainId>.leader-status). So the answer is always the leader's view.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { ChainId, DateTime, DurationMs, HostName, StringEnum } from '../fields';
import { ENDPOINT_PATTERN, ProtocolVersionSchema } from '../events/chain';
import { EventEnvelopeSchema } from '../envelope';

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
  description: 'Every watched chain (or one) as its leading replica sees it: height, version, endpoint, lag, WebSocket or polling.',
  request: Type.Object({ chainId: Type.Optional(ChainId()) }, { additionalProperties: false }),
  result: Type.Object({ chains: Type.Array(ChainStatusEntrySchema, { maxItems: 1_000 }) }, { additionalProperties: false }),
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
