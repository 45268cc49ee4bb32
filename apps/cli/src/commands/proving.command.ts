// `fleetvisor proving info | deadlines | deadline N | faults --miner <id> [--json]`: venus-sealer's
// (lotus-miner's) proving views for any miner of the fleet, answered by a chain-watcher replica over
// the bus (chain-watcher.proving-miner: the miner's state read from its chain node at that moment).
// The formatters are plain functions of the reply (proving.command.spec.ts).
import { ChainProvingMiner, createSubjects, MINER_ID_PATTERN, type CommandReply, type CommandResultOf, type ProvingMinerView } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { createLogger, defineCliCommand, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { askRemote, REMOTE_OPTIONS, remoteOf } from '../remote';

type Deadline = ProvingMinerView['deadlines'][number];

/** Aligned columns, two spaces apart (tabwriter-like, as lotus-miner prints). */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function relative(epoch: number, now: number): string {
  if (epoch === now) return 'now';
  const n = Math.abs(epoch - now);
  return epoch > now ? `in ${n} epoch${n === 1 ? '' : 's'}` : `${n} epoch${n === 1 ? '' : 's'} ago`;
}

const at = (epoch: number, now: number) => `${epoch} (${relative(epoch, now)})`;
const sectorsOf = (d: Deadline) => d.partitions.reduce((n, p) => n + p.sectors, 0);
const faultsOf = (d: Deadline) => d.partitions.reduce((n, p) => n + p.faulty.length, 0);
const recoveringOf = (d: Deadline) => d.partitions.reduce((n, p) => n + p.recovering.length, 0);
/** The deadline's current window if open, else its next one. */
const openOf = (v: ProvingMinerView, index: number) => v.periodStart + index * v.challengeWindow + (index < v.deadlineIndex ? v.provingPeriod : 0);

export function provingInfoSummary(v: ProvingMinerView) {
  const sectors = v.deadlines.reduce((n, d) => n + sectorsOf(d), 0);
  const faults = v.deadlines.reduce((n, d) => n + faultsOf(d), 0);
  const recovering = v.deadlines.reduce((n, d) => n + recoveringOf(d), 0);
  const current = v.deadlines[v.deadlineIndex];
  return {
    chainId: v.chainId,
    minerId: v.minerId,
    currentEpoch: v.currentEpoch,
    periodBoundary: v.periodStart % v.provingPeriod,
    periodStart: v.periodStart,
    nextPeriodStart: v.periodStart + v.provingPeriod,
    sectors,
    faults,
    recovering,
    deadlineIndex: v.deadlineIndex,
    deadlineSectors: current ? sectorsOf(current) : 0,
    open: v.open,
    close: v.close,
    challenge: v.challenge,
    faultCutoff: v.faultCutoff,
  };
}

export function formatProvingInfo(v: ProvingMinerView): string {
  const s = provingInfoSummary(v);
  const now = v.currentEpoch;
  const pct = s.sectors === 0 ? '0.00' : ((100 * s.faults) / s.sectors).toFixed(2);
  return [
    `Miner: ${v.minerId} (${v.chainId})`,
    `Current Epoch:           ${now}`,
    `Proving Period Boundary: ${s.periodBoundary}`,
    `Proving Period Start:    ${at(s.periodStart, now)}`,
    `Next Period Start:       ${at(s.nextPeriodStart, now)}`,
    '',
    `Sectors:     ${s.sectors}`,
    `Faults:      ${s.faults} (${pct}%)`,
    `Recovering:  ${s.recovering}`,
    '',
    `Deadline Index:       ${s.deadlineIndex}`,
    `Deadline Sectors:     ${s.deadlineSectors}`,
    `Deadline Open:        ${at(s.open, now)}`,
    `Deadline Close:       ${at(s.close, now)}`,
    `Deadline Challenge:   ${at(s.challenge, now)}`,
    `Deadline FaultCutoff: ${at(s.faultCutoff, now)}`,
    '',
  ].join('\n');
}

export function provingDeadlinesSummary(v: ProvingMinerView) {
  return v.deadlines.map((d) => ({
    deadline: d.index,
    open: openOf(v, d.index),
    partitions: d.partitions.length,
    sectors: sectorsOf(d),
    faults: faultsOf(d),
    provenPartitions: d.provenPartitions.length,
    current: d.index === v.deadlineIndex,
  }));
}

export function formatProvingDeadlines(v: ProvingMinerView): string {
  const rows = [['deadline', 'open', 'partitions', 'sectors (faults)', 'proven partitions'], ...provingDeadlinesSummary(v).map((d) => [
    `${d.deadline}${d.current ? ' (current)' : ''}`,
    String(d.open),
    String(d.partitions),
    `${d.sectors} (${d.faults})`,
    String(d.provenPartitions),
  ])];
  return `Miner: ${v.minerId} (${v.chainId})\n` + table(rows);
}

export function formatProvingDeadline(v: ProvingMinerView, index: number): string {
  const d = v.deadlines[index]!;
  const lines = [
    `Deadline Index:           ${d.index}`,
    `Deadline Open:            ${openOf(v, d.index)}`,
    `Partitions:               ${d.partitions.length}`,
    `Proven Partitions:        ${d.provenPartitions.length}`,
    `Current:                  ${d.index === v.deadlineIndex}`,
    '',
  ];
  for (const p of d.partitions) {
    lines.push(
      `Partition Index:        ${p.partition}`,
      `  Sectors:              ${p.sectors}`,
      `  Faults:               ${p.faulty.length}`,
      `  Faulty Sectors:       ${p.faulty.join(' ')}`,
      `  Recovering Sectors:   ${p.recovering.join(' ')}`,
    );
  }
  return lines.map((l) => l.trimEnd()).join('\n') + '\n';
}

export function provingFaultsList(v: ProvingMinerView): { deadline: number; partition: number; sector: number; recovering: boolean }[] {
  return v.deadlines.flatMap((d) =>
    d.partitions.flatMap((p) => {
      const rec = new Set(p.recovering);
      return p.faulty.map((sector) => ({ deadline: d.index, partition: p.partition, sector, recovering: rec.has(sector) }));
    }),
  );
}

export function formatProvingFaults(v: ProvingMinerView): string {
  const rows = [['deadline', 'partition', 'sectorId', 'recovering'], ...provingFaultsList(v).map((f) => [String(f.deadline), String(f.partition), String(f.sector), f.recovering ? 'yes' : 'no'])];
  return `Miner: ${v.minerId} (${v.chainId})\n` + table(rows);
}

const OPTIONS = {
  miner: { type: 'string', description: 'the storage provider, e.g. f01000', placeholder: 'id' },
  json: { type: 'boolean', description: 'the answer as one JSON object' },
  timeout: { type: 'string', description: 'how long to wait for the chain-watcher (ms)', default: '10000', placeholder: 'ms' },
  ...REMOTE_OPTIONS,
} as const;

async function askMiner(name: string, options: Record<string, unknown>, io: { err(s: string): void }): Promise<ProvingMinerView | undefined> {
  const minerId = options['miner'];
  if (typeof minerId !== 'string' || !new RegExp(MINER_ID_PATTERN).test(minerId)) throw new UsageError('--miner <id> is required: a miner ID address such as f01000 or t01000');
  const timeoutMs = Number(options['timeout']);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError('--timeout must be a positive integer (ms)');
  const remote = remoteOf(options as Parameters<typeof remoteOf>[0]);
  const handle = (reply: CommandReply<CommandResultOf<typeof ChainProvingMiner>>): ProvingMinerView | undefined => {
    if (!reply.ok || !reply.result) {
      const e = reply.ok ? { code: 'internal', message: 'empty reply' } : reply.error;
      io.err(`fleetvisor proving ${name}: ${e.code}: ${e.message}${e.code === 'unavailable' ? " (is 'fleetvisor chain-watcher run' running with FLEETVISOR_FILECOIN_CHAINS?)" : ''}\n`);
      return undefined;
    }
    return reply.result;
  };
  if (remote) return handle(await askRemote(remote, ChainProvingMiner, { minerId }, timeoutMs));
  const config = loadCliConfig();
  const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
  const nc = await connectNats(config, logger, { name: 'fleetvisor-cli' });
  try {
    const bus = new CommandBus({ nc, subjects: createSubjects(config.subjectRoot), logger });
    return handle(await bus.request(ChainProvingMiner, { minerId }, { timeoutMs }));
  } finally {
    await nc.close();
  }
}

const ASKS = 'Asks a chain-watcher replica over the bus; it reads the miner\'s state from the node of the Filecoin chain the miner is configured on (FLEETVISOR_FILECOIN_MINERS).';

export const provingInfoCommand = defineCliCommand({
  path: ['proving', 'info'],
  summary: "A miner's proving period and current deadline: epochs, sectors, faults, recoveries (asks the chain-watcher)",
  description: `${ASKS} As venus-sealer proving info: current epoch, proving period start, the open deadline's open/close/challenge/fault-cutoff epochs, sector, fault and recovery counts.`,
  options: OPTIONS,
  examples: ['fleetvisor proving info --miner f01000', 'fleetvisor proving info --miner f01000 --json'],
  async run({ options, io }) {
    const v = await askMiner('info', options, io);
    if (!v) return 1;
    io.out(options.json ? JSON.stringify(provingInfoSummary(v)) + '\n' : formatProvingInfo(v));
    return 0;
  },
});

export const provingDeadlinesCommand = defineCliCommand({
  path: ['proving', 'deadlines'],
  summary: "Every deadline of a miner's proving period: partitions, sectors, faults, proven partitions (asks the chain-watcher)",
  description: `${ASKS} As venus-sealer proving deadlines.`,
  options: OPTIONS,
  examples: ['fleetvisor proving deadlines --miner f01000'],
  async run({ options, io }) {
    const v = await askMiner('deadlines', options, io);
    if (!v) return 1;
    io.out(options.json ? JSON.stringify({ chainId: v.chainId, minerId: v.minerId, deadlines: provingDeadlinesSummary(v) }) + '\n' : formatProvingDeadlines(v));
    return 0;
  },
});

export const provingDeadlineCommand = defineCliCommand({
  path: ['proving', 'deadline'],
  args: '<index>',
  summary: "One deadline of a miner: its partitions, their sectors, faulty and recovering sectors (asks the chain-watcher)",
  description: `${ASKS} As venus-sealer proving deadline N.`,
  options: OPTIONS,
  examples: ['fleetvisor proving deadline 5 --miner f01000'],
  async run({ options, positionals, io }) {
    const text = positionals[0];
    if (text === undefined || positionals.length > 1 || !/^\d{1,5}$/.test(text)) throw new UsageError('name one deadline index, e.g. fleetvisor proving deadline 5 --miner f01000');
    const index = Number(text);
    const v = await askMiner('deadline', options, io);
    if (!v) return 1;
    if (index >= v.periodDeadlines) {
      io.err(`fleetvisor proving deadline: ${index} is not a deadline (0..${v.periodDeadlines - 1})\n`);
      return 2;
    }
    io.out(options.json ? JSON.stringify({ chainId: v.chainId, minerId: v.minerId, current: index === v.deadlineIndex, open: openOf(v, index), ...v.deadlines[index]! }) + '\n' : formatProvingDeadline(v, index));
    return 0;
  },
});

export const provingFaultsCommand = defineCliCommand({
  path: ['proving', 'faults'],
  summary: "A miner's faulty sectors with their deadline and partition (asks the chain-watcher)",
  description: `${ASKS} As venus-sealer proving faults, with whether each sector is declared recovering.`,
  options: OPTIONS,
  examples: ['fleetvisor proving faults --miner f01000'],
  async run({ options, io }) {
    const v = await askMiner('faults', options, io);
    if (!v) return 1;
    io.out(options.json ? JSON.stringify({ chainId: v.chainId, minerId: v.minerId, faults: provingFaultsList(v) }) + '\n' : formatProvingFaults(v));
    return 0;
  },
});
