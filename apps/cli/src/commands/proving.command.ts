// `fleetvisor proving info | deadlines | deadline N | faults --miner <id> [--json]`: venus-sealer's
// (lotus-miner's) proving views for any miner of the fleet, answered by a chain-watcher replica over
// the bus (chain-watcher.proving-miner: the miner's state read from its chain node at that moment).
// `proving check N` asks the watcher for the deadline's sectors (chain-watcher.proving-sectors),
// then every worker-agent for the files it holds (worker-agent.proving-check, broadcast).
// The formatters are plain functions of the replies (proving.command.spec.ts).
import { ErrorCode, RequestStrategy, type NatsConnection } from 'nats';
import {
  AgentProvingCheck,
  ChainProvingMiner,
  ChainProvingSectors,
  createSubjects,
  MAX_PROVING_CHECK_SECTORS,
  MINER_ID_PATTERN,
  parseCommandReply,
  type CommandReply,
  type CommandRequestOf,
  type CommandResultOf,
  type ProvingCheckAnswer,
  type ProvingMinerView,
  type ProvingSectorsView,
  type Subjects,
  type WorkerSummary,
  WorkerListPage,
} from '@fleetvisor/contracts';
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

// ---- proving check ----

export type ProvingCheckStatus = 'good' | 'bad' | 'not_found';

export interface ProvingCheckRow {
  deadline: number;
  partition: number;
  sector: number;
  status: ProvingCheckStatus;
  /** The agents that found the sector's files. */
  workers: string[];
  /** What is wrong, by agent (empty when good). */
  problems: { worker: string; problem: string }[];
  /** Faulty on chain now. */
  faulty: boolean;
}

export interface ProvingCheckReport {
  chainId: string;
  minerId: string;
  deadline: number;
  sectorSize: number;
  agents: { worker: string; stores: ProvingCheckAnswer['stores'] }[];
  sectors: ProvingCheckRow[];
  summary: { sectors: number; good: number; bad: number; notFound: number };
  /** Workers the registry knows whose agent gave no answer (absent when the registry did not answer). */
  unanswered?: { worker: string; lastPing: string; expired: boolean }[];
}

/** The registry's workers that did not answer: their sectors may be the ones reported as not found. */
export function unansweredAgents(known: readonly WorkerSummary[], report: ProvingCheckReport): NonNullable<ProvingCheckReport['unanswered']> {
  const answered = new Set(report.agents.map((a) => a.worker));
  return known.filter((w) => !answered.has(w.name)).map((w) => ({ worker: w.name, lastPing: w.lastPing, expired: w.expired })).sort((x, y) => x.worker.localeCompare(y.worker));
}

/** The deadline's sectors in batches an agent's answer fits in (MAX_PROVING_CHECK_SECTORS each). */
export function provingCheckBatches(view: ProvingSectorsView, size = MAX_PROVING_CHECK_SECTORS): number[][] {
  const all = view.partitions.flatMap((p) => p.sectors);
  const out: number[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

/**
 * The agents' answers against the deadline's sectors. A sector is good when the agents that found it
 * report no problem, bad when any of them reports one (a store one host sees broken is worth a look
 * even if another host sees it whole), not found when no agent has it. Entries for sectors that were
 * not asked are ignored; two answers under one worker name are merged, the worse kept.
 */
export function mergeProvingCheck(view: ProvingSectorsView, answers: readonly ProvingCheckAnswer[]): ProvingCheckReport {
  const asked = new Set(view.partitions.flatMap((p) => p.sectors));
  const found = new Map<number, Map<string, string[]>>();
  const agents = new Map<string, ProvingCheckAnswer['stores']>();
  for (const a of answers) {
    if (!agents.has(a.worker)) agents.set(a.worker, a.stores);
    for (const c of a.checked) {
      if (!asked.has(c.sector)) continue;
      let byWorker = found.get(c.sector);
      if (!byWorker) found.set(c.sector, (byWorker = new Map()));
      const before = byWorker.get(a.worker) ?? [];
      byWorker.set(a.worker, c.problems.length >= before.length ? c.problems : before);
    }
  }
  const sectors: ProvingCheckRow[] = view.partitions.flatMap((p) => {
    const faulty = new Set(p.faulty);
    return p.sectors.map((sector) => {
      const byWorker = found.get(sector);
      const workers = byWorker ? [...byWorker.keys()].sort() : [];
      const problems = workers.flatMap((worker) => byWorker!.get(worker)!.map((problem) => ({ worker, problem })));
      const status: ProvingCheckStatus = workers.length === 0 ? 'not_found' : problems.length > 0 ? 'bad' : 'good';
      return { deadline: view.deadline, partition: p.partition, sector, status, workers, problems, faulty: faulty.has(sector) };
    });
  });
  const count = (s: ProvingCheckStatus) => sectors.filter((r) => r.status === s).length;
  return {
    chainId: view.chainId,
    minerId: view.minerId,
    deadline: view.deadline,
    sectorSize: view.sectorSize,
    agents: [...agents.entries()].map(([worker, stores]) => ({ worker, stores })).sort((x, y) => x.worker.localeCompare(y.worker)),
    sectors,
    summary: { sectors: sectors.length, good: count('good'), bad: count('bad'), notFound: count('not_found') },
  };
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (n >= 1024 && n % 1024 === 0 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n} ${units[u]}`;
}

export function provingCheckStatusText(r: ProvingCheckRow): string {
  if (r.status === 'good') return 'good';
  if (r.status === 'not_found') return 'not found on any agent';
  return `bad (${r.problems.map((p) => `${p.worker}: ${p.problem}`).join('; ')})`;
}

/** venus-sealer's `proving check` table (deadline, partition, sector, status), with the agents that hold each sector. */
export function formatProvingCheck(r: ProvingCheckReport, opts: { onlyBad?: boolean; timeoutMs?: number } = {}): string {
  const lines = [`Miner: ${r.minerId} (${r.chainId}), deadline ${r.deadline}, sector size ${bytes(r.sectorSize)}`];
  lines.push(
    r.agents.length === 0
      ? `Agents: none answered${opts.timeoutMs !== undefined ? ` within ${opts.timeoutMs} ms` : ''} (is a worker-agent running with FLEETVISOR_WORKER_STORES or FLEETVISOR_WORKER_DAMOCLES_CONFIG?)`
      : `Agents: ${r.agents.map((a) => `${a.worker} (${a.stores.length} store${a.stores.length === 1 ? '' : 's'})`).join(', ')}`,
  );
  if (r.unanswered && r.unanswered.length > 0) {
    lines.push(`Not answering: ${r.unanswered.map((u) => `${u.worker} (${u.expired ? 'silent' : 'reporting'}, last report ${u.lastPing})`).join(', ')}`);
  }
  for (const a of r.agents) {
    if (a.stores.length === 0) lines.push(`  ${a.worker}: no sector stores configured`);
    for (const st of a.stores) if (st.problem) lines.push(`  ${a.worker}: store ${st.location} ${st.problem}`);
  }
  const rows = r.sectors.filter((x) => !opts.onlyBad || x.status !== 'good');
  const table = [['deadline', 'partition', 'sector', 'worker', 'status'], ...rows.map((x) => [String(x.deadline), String(x.partition), String(x.sector), x.workers.join(',') || '-', provingCheckStatusText(x)])];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  for (const t of table) lines.push(t.map((c, i) => (i === t.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
  const s = r.summary;
  lines.push(`${s.sectors} sector${s.sectors === 1 ? '' : 's'}: ${s.good} good, ${s.bad} bad, ${s.notFound} not found on any agent`);
  return lines.join('\n') + '\n';
}

/**
 * The workers the registry knows (best effort, a few pages): which agents should have answered. No
 * registry, no answer: undefined, and the check says nothing about silent agents.
 */
async function knownWorkers(bus: CommandBus, timeoutMs: number): Promise<WorkerSummary[] | undefined> {
  const out: WorkerSummary[] = [];
  let after: string | undefined;
  for (let page = 0; page < 10; page++) {
    const reply = await bus.request(WorkerListPage, after === undefined ? {} : { after }, { timeoutMs });
    if (!reply.ok || !reply.result) return undefined;
    out.push(...reply.result.workers);
    after = reply.result.next;
    if (after === undefined) return out;
  }
  return out;
}

/** Every agent's answer to one batch, gathered until `timeoutMs` (an answer that is not a valid proving-check result is dropped). */
export async function gatherProvingCheck(nc: NatsConnection, subjects: Subjects, req: CommandRequestOf<typeof AgentProvingCheck>, timeoutMs: number): Promise<ProvingCheckAnswer[]> {
  const out: ProvingCheckAnswer[] = [];
  try {
    const replies = await nc.requestMany(subjects.command(AgentProvingCheck.service, AgentProvingCheck.verb), Buffer.from(JSON.stringify(req)), { strategy: RequestStrategy.Timer, maxWait: timeoutMs });
    for await (const m of replies) {
      let raw: unknown;
      try {
        raw = JSON.parse(Buffer.from(m.data).toString('utf8'));
      } catch {
        continue;
      }
      const parsed = parseCommandReply(AgentProvingCheck, raw);
      if (parsed.ok && parsed.value.ok && parsed.value.result !== undefined) out.push(parsed.value.result);
    }
  } catch (e) {
    // No agent listens at all: NATS answers "no responders" at once. That is a fleet without agents.
    if ((e as { code?: string }).code !== ErrorCode.NoResponders) throw e;
  }
  return out;
}

export const provingCheckCommand = defineCliCommand({
  path: ['proving', 'check'],
  args: '<deadline>',
  summary: "Check the files of a deadline's sectors on every worker-agent: sealed and cache files present, readable, the right size",
  description: [
    "venus-sealer proving check, across the fleet: asks a chain-watcher for the deadline's live sectors and the miner's",
    'sector size (read from the node now), then every worker-agent over the bus (worker-agent.proving-check); each looks',
    'for the sectors in the stores it is configured with (FLEETVISOR_WORKER_STORES, FLEETVISOR_WORKER_DAMOCLES_CONFIG)',
    'and answers for those it holds: sealed file and cache files (p_aux, t_aux, tree-r-last) there, readable, the sealed',
    'file exactly the sector size. Answers are gathered for --timeout per batch of 500 sectors. Workers the',
    'worker-registry knows whose agent did not answer are named (their sectors may be the ones not found).',
    'Status: good; bad (<worker>: <file>: <why>); not found on any agent.',
    'Exit code: 0 when every sector is good, 1 when one is bad or not found on any agent (or the check failed), 2 on a usage error.',
  ].join('\n'),
  options: {
    miner: OPTIONS.miner,
    'only-bad': { type: 'boolean', description: 'list only the sectors that are bad or not found' },
    json: { type: 'boolean', description: 'the answer as one JSON object (sectors, agents, summary)' },
    timeout: { type: 'string', description: "how long to wait for the chain-watcher, and to gather the agents' answers to each batch (ms)", default: '3000', placeholder: 'ms' },
  },
  examples: ['fleetvisor proving check 12 --miner f01000', 'fleetvisor proving check 12 --miner f01000 --only-bad', 'fleetvisor proving check 12 --miner f01000 --json --timeout 10000'],
  async run({ options, positionals, io }) {
    const text = positionals[0];
    if (text === undefined || positionals.length > 1 || !/^\d{1,5}$/.test(text)) throw new UsageError('name one deadline index, e.g. fleetvisor proving check 5 --miner f01000');
    const minerId = options.miner;
    if (typeof minerId !== 'string' || !new RegExp(MINER_ID_PATTERN).test(minerId)) throw new UsageError('--miner <id> is required: a miner ID address such as f01000 or t01000');
    const timeoutMs = Number(options.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 600_000) throw new UsageError('--timeout must be a whole number of milliseconds between 1 and 600000');
    const config = loadCliConfig();
    const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
    const nc = await connectNats(config, logger, { name: 'fleetvisor-cli' });
    try {
      const subjects = createSubjects(config.subjectRoot);
      const bus = new CommandBus({ nc, subjects, logger });
      const reply = await bus.request(ChainProvingSectors, { minerId, deadline: Number(text) }, { timeoutMs });
      if (!reply.ok || !reply.result) {
        const e = reply.ok ? { code: 'internal', message: 'empty reply' } : reply.error;
        io.err(`fleetvisor proving check: ${e.code}: ${e.message}${e.code === 'unavailable' ? " (is 'fleetvisor chain-watcher run' running with FLEETVISOR_FILECOIN_CHAINS?)" : ''}\n`);
        return 1;
      }
      const view = reply.result;
      const answers: ProvingCheckAnswer[] = [];
      const batches = provingCheckBatches(view);
      // A few batches at a time: each agent checks one batch after the other anyway.
      for (let i = 0; i < batches.length; i += 4) {
        const got = await Promise.all(batches.slice(i, i + 4).map((sectors) => gatherProvingCheck(nc, subjects, { minerId, sectorSize: view.sectorSize, sectors }, timeoutMs)));
        answers.push(...got.flat());
      }
      const merged = mergeProvingCheck(view, answers);
      const known = await knownWorkers(bus, Math.min(timeoutMs, 2_000));
      const report = known ? { ...merged, unanswered: unansweredAgents(known, merged) } : merged;
      const shown = options['only-bad'] ? { ...report, sectors: report.sectors.filter((r) => r.status !== 'good') } : report;
      io.out(options.json ? JSON.stringify(shown) + '\n' : formatProvingCheck(report, { onlyBad: options['only-bad'] === true, timeoutMs }));
      return report.summary.good === report.summary.sectors ? 0 : 1;
    } finally {
      await nc.close();
    }
  },
});
