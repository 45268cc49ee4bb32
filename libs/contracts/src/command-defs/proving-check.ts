// `fleetvisor proving check N --miner <id>` (issue 18): venus-sealer's `proving check` across the
// fleet's worker-agents. Two queries, neither changes anything (no role):
// - chain-watcher.proving-sectors: the live sectors of one deadline, by partition, and the miner's
//   sector size, read from the miner's chain node now (any replica answers).
// - worker-agent.proving-check: broadcast to every agent (no queue group, each answers for itself);
//   each looks for the sectors in the sector stores it is configured with and answers only for the
//   sectors it found, with what is wrong with their files. Agents hold no signing key, so an answer
//   is the word of whoever holds an agent's NATS credential: only agents may subscribe this subject.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { ChainId, WorkerName } from '../fields';
import { MAX_PARTITIONS_PER_DEADLINE, MinerId } from '../events/proving';

/**
 * Sectors per proving-check request. The answer for each can carry a few problems (paths and their
 * reasons), and an answer must fit the server's max_payload (512 KiB): the CLI asks in batches.
 */
export const MAX_PROVING_CHECK_SECTORS = 500;
/** Problems listed per sector (venus-sealer reports the first; a few help tell a lost cache dir from one file). */
export const MAX_PROBLEMS_PER_SECTOR = 3;
/** Sector stores an agent lists in its answer. */
export const MAX_AGENT_STORES = 256;

const SectorNumber = () => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Sector number' });
export const SectorSize = () =>
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Sector size in bytes (StateMinerInfo.SectorSize): 2048, 8388608, 536870912, 34359738368 or 68719476736' });
const Problem = () => Type.String({ minLength: 1, maxLength: 240, description: 'What is wrong: a file (relative to its store) and why' });
const StoreLocation = () => Type.String({ minLength: 1, maxLength: 1024, description: 'A sector store directory as the agent sees it' });

export const ChainProvingSectors = defineCommand({
  service: 'chain-watcher',
  verb: 'proving-sectors',
  description:
    "The live sectors of one deadline of a miner, by partition, with the miner's sector size, read from its Filecoin chain's node now (StateMinerProvingDeadline, StateMinerInfo, StateMinerPartitions). invalid_request for a deadline index beyond the period.",
  request: Type.Object({ minerId: MinerId(), deadline: Type.Integer({ minimum: 0, maximum: 10_000 }) }, { additionalProperties: false }),
  result: Type.Object(
    {
      chainId: ChainId(),
      minerId: MinerId(),
      deadline: Type.Integer({ minimum: 0, maximum: 10_000 }),
      currentEpoch: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
      sectorSize: SectorSize(),
      partitions: Type.Array(
        Type.Object(
          {
            partition: Type.Integer({ minimum: 0, maximum: 100_000 }),
            sectors: Type.Array(SectorNumber(), { maxItems: 100_000, description: 'Live sector numbers (LiveSectors), ascending' }),
            faulty: Type.Array(SectorNumber(), { maxItems: 100_000, description: 'Faulty sector numbers, ascending' }),
          },
          { additionalProperties: false },
        ),
        { maxItems: MAX_PARTITIONS_PER_DEADLINE },
      ),
    },
    { additionalProperties: false },
  ),
});
export type ProvingSectorsView = Static<typeof ChainProvingSectors.result>;

export const ProvingCheckSectorSchema = Type.Object(
  {
    sector: SectorNumber(),
    problems: Type.Array(Problem(), { maxItems: MAX_PROBLEMS_PER_SECTOR, description: 'Empty: every file is there, readable, with the expected size' }),
    upgraded: Type.Optional(Type.Boolean({ description: 'Checked as a snap-upgraded sector (update/ and update-cache/)' })),
  },
  { additionalProperties: false },
);
export type ProvingCheckSector = Static<typeof ProvingCheckSectorSchema>;

export const AgentProvingCheck = defineCommand({
  service: 'worker-agent',
  verb: 'proving-check',
  description:
    "Every worker-agent (broadcast) looks for the sectors in its sector stores (FLEETVISOR_WORKER_STORES, damocles-worker's [[attached]] stores) and answers for those it found: sealed file and cache files present, readable, the sealed file of the sector size. A sector an agent did not find is not in its answer.",
  request: Type.Object(
    {
      minerId: MinerId(),
      sectorSize: SectorSize(),
      sectors: Type.Array(SectorNumber(), { minItems: 1, maxItems: MAX_PROVING_CHECK_SECTORS, uniqueItems: true }),
    },
    { additionalProperties: false },
  ),
  result: Type.Object(
    {
      worker: WorkerName({ description: 'The agent that answers' }),
      stores: Type.Array(
        Type.Object(
          { location: StoreLocation(), problem: Type.Optional(Problem()) },
          { additionalProperties: false, description: 'A configured store; problem when it cannot be read (not mounted, no permission)' },
        ),
        { maxItems: MAX_AGENT_STORES },
      ),
      checked: Type.Array(ProvingCheckSectorSchema, { maxItems: MAX_PROVING_CHECK_SECTORS, description: 'The sectors of the request this agent found, in request order' }),
    },
    { additionalProperties: false },
  ),
});
export type ProvingCheckAnswer = Static<typeof AgentProvingCheck.result>;
