// Filecoin proving facts, from the chain-watcher's proving watch (one watch per Filecoin chain for
// the whole fleet). Stream: miner-<minerId>. Epochs, deadlines and partitions are the chain's
// (Lotus/venus `StateMinerProvingDeadline`, `StateMinerPartitions`); sector numbers are the
// miner's. Each event is recorded once: its id is derived from its content (miner, deadline, epoch,
// partition), and the watcher decides on the miner's stream folded at a known version.
import { Type, type Static } from '@sinclair/typebox';
import { defineEvent } from '../define-event';
import { ChainId } from '../fields';
import { MINER_ID_PATTERN } from './stats';

/** Sectors listed in one event (a partition holds at most 2,349 sectors on mainnet). */
export const MAX_SECTORS_PER_EVENT = 2_349;
/** Partitions listed per deadline (a deadline can hold many; 3,000 is far above any miner's). */
export const MAX_PARTITIONS_PER_DEADLINE = 3_000;

const Epoch = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
export const MinerId = () => Type.String({ minLength: 3, maxLength: 22, pattern: MINER_ID_PATTERN, description: 'Filecoin ID address of the storage provider, e.g. f01000' });
const FilecoinChain = () => ChainId({ description: 'Name of the watched Filecoin chain (FLEETVISOR_FILECOIN_CHAINS), e.g. calibnet' });
const DeadlineIndex = () => Type.Integer({ minimum: 0, maximum: 10_000, description: 'Deadline index within the proving period (0..47 on mainnet)' });
const PartitionIndex = () => Type.Integer({ minimum: 0, maximum: 100_000, description: 'Partition index within the deadline' });
const SectorNumbers = (description: string) =>
  Type.Array(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), { minItems: 1, maxItems: MAX_SECTORS_PER_EVENT, uniqueItems: true, description });

const sectorFields = {
  chainId: FilecoinChain(),
  minerId: MinerId(),
  deadline: DeadlineIndex(),
  partition: PartitionIndex(),
  epoch: Epoch('Epoch (chain height) at which the change was seen'),
};

const ascending = (xs: readonly number[], what: string): string | undefined => {
  for (let i = 1; i < xs.length; i++) if (xs[i]! <= xs[i - 1]!) return `${what} must be in ascending order`;
  return undefined;
};

export const SectorsFaulted = defineEvent({
  type: 'SectorsFaulted',
  area: 'miner',
  description: 'Sectors of one partition became faulty on chain (declared faults or faults detected at a deadline end), as first seen by the proving watch.',
  streamPattern: 'miner-<minerId>',
  streamId: (d) => d.minerId,
  schema: Type.Object({ ...sectorFields, sectors: SectorNumbers('Sector numbers newly faulty, ascending') }, { additionalProperties: false }),
  validate: (d) => ascending(d.sectors, 'sectors'),
});

export const SectorsRecovered = defineEvent({
  type: 'SectorsRecovered',
  area: 'miner',
  description: 'Faulty sectors of one partition are no longer faulty (recovered by a Window PoSt, or terminated), as first seen by the proving watch.',
  streamPattern: 'miner-<minerId>',
  streamId: (d) => d.minerId,
  schema: Type.Object({ ...sectorFields, sectors: SectorNumbers('Sector numbers no longer faulty, ascending') }, { additionalProperties: false }),
  validate: (d) => ascending(d.sectors, 'sectors'),
});

const windowFields = {
  chainId: FilecoinChain(),
  minerId: MinerId(),
  deadline: DeadlineIndex(),
  periodStart: Epoch('Start of the proving period the deadline belongs to'),
  open: Epoch('First epoch of the deadline window'),
  close: Epoch('First epoch after the window'),
  epoch: Epoch('Epoch at which this was seen'),
};

export const WindowPoStMissed = defineEvent({
  type: 'WindowPoStMissed',
  area: 'miner',
  description: 'A deadline closed with partitions not proven (no Window PoSt seen for them while it was open): their sectors are faulty now and the miner is penalised.',
  streamPattern: 'miner-<minerId>',
  streamId: (d) => d.minerId,
  schema: Type.Object(
    {
      ...windowFields,
      partitions: Type.Array(PartitionIndex(), { minItems: 1, maxItems: MAX_PARTITIONS_PER_DEADLINE, uniqueItems: true, description: 'Partitions not proven, ascending' }),
      provenPartitions: Type.Integer({ minimum: 0, maximum: MAX_PARTITIONS_PER_DEADLINE, description: 'Partitions of the deadline that were proven' }),
    },
    { additionalProperties: false },
  ),
  validate: (d) => (d.close <= d.open ? `close ${d.close} must be after open ${d.open}` : ascending(d.partitions, 'partitions')),
});

export const ProvingDeadlineAtRisk = defineEvent({
  type: 'ProvingDeadlineAtRisk',
  area: 'miner',
  description: 'A deadline opened while its partitions hold faulty sectors not declared recovered: those sectors will not be proven in this window.',
  streamPattern: 'miner-<minerId>',
  streamId: (d) => d.minerId,
  schema: Type.Object(
    {
      ...windowFields,
      partitions: Type.Array(
        Type.Object({ partition: PartitionIndex(), sectors: SectorNumbers('Faulty sectors not declared recovering, ascending') }, { additionalProperties: false }),
        { minItems: 1, maxItems: MAX_PARTITIONS_PER_DEADLINE, description: 'Partitions at risk, ascending by partition' },
      ),
    },
    { additionalProperties: false },
  ),
  validate: (d) => (d.close <= d.open ? `close ${d.close} must be after open ${d.open}` : ascending(d.partitions.map((p) => p.partition), 'partitions')),
});

export type SectorsFaultedData = Static<typeof SectorsFaulted.schema>;
