// The Filecoin chains of the proving watch in `chain-watcher.status` (beside the Lava chains), and
// `chain-watcher.proving-leader-status`, which only the replica leading a Filecoin chain answers
// (every replica hears it; the others stay silent), so the status shown is the leader's view.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { ChainId, HostName, StringEnum } from '../fields';
import { MinerId } from '../events/proving';

/** How the leader follows the head: ChainNotify over WebSocket, or ChainHead polls while it is down. */
export const PROVING_WATCH_MODES = ['notify', 'poll', 'no_leader'] as const;
export type ProvingWatchModeName = (typeof PROVING_WATCH_MODES)[number];

export const FilecoinChainStatusSchema = Type.Object(
  {
    chainId: ChainId({ description: 'Name of the watched Filecoin chain (FLEETVISOR_FILECOIN_CHAINS)' }),
    mode: StringEnum(PROVING_WATCH_MODES, 'notify (ChainNotify over WebSocket), poll (ChainHead polls), or no_leader when no replica leads this chain'),
    leaderHost: Type.Optional(HostName({ description: 'Host of the replica leading this chain' })),
    height: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Last epoch observed for every miner' })),
    miners: Type.Array(MinerId(), { maxItems: 10_000, description: 'Miners watched on this chain' }),
    callsPerEpoch: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9, description: 'Node calls per epoch for all its miners, measured by the leader' })),
    notifyProblem: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Why ChainNotify is not in use (while polling)' })),
    problems: Type.Array(Type.String({ minLength: 1, maxLength: 500 }), { maxItems: 32, description: 'Why the chain is degraded (empty when healthy)' }),
  },
  { additionalProperties: false, description: 'One Filecoin chain of the proving watch as its leader sees it' },
);
export type FilecoinChainStatus = Static<typeof FilecoinChainStatusSchema>;

export const ChainProvingLeaderStatus = defineCommand({
  service: 'chain-watcher',
  verb: 'proving-leader-status',
  description:
    'Internal: the status of one Filecoin chain of the proving watch. Every replica hears it (no queue group); only the replica that leads the chain answers, the others stay silent.',
  request: Type.Object({ chainId: ChainId() }, { additionalProperties: false }),
  result: FilecoinChainStatusSchema,
});
