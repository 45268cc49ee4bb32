// `fleetvisor chain status [--chain-id X] [--json]`: every watched chain as its leading
// chain-watcher replica sees it (asked over the bus: chain-watcher.status): the Lava chains, then
// the Filecoin chains of the proving watch.
import { ChainStatus, createSubjects, type ChainStatusEntry, type CommandReply, type CommandResultOf, type FilecoinChainStatus, type ProtocolVersion } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { createLogger, defineCliCommand, UsageError } from '@fleetvisor/platform';
import { CHAIN_ID_PATTERN } from '@fleetvisor/contracts';
import { loadCliConfig } from '../config';
import { askRemote, REMOTE_OPTIONS, remoteOf } from '../remote';

const providerText = (v: ProtocolVersion | undefined): string => (v ? `${v.providerTarget}/${v.providerMin}` : '-');
const consumerText = (v: ProtocolVersion | undefined): string => (v ? `${v.consumerTarget}/${v.consumerMin}` : '-');

function lagText(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

/** Rows as aligned columns, the last column unpadded. */
function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** The first few miners, then how many more. */
function minersText(miners: readonly string[]): string {
  const shown = 3;
  return miners.length <= shown + 1 ? miners.join(',') || '-' : `${miners.slice(0, shown).join(',')} +${miners.length - shown}`;
}

export function formatFilecoinStatus(chains: readonly FilecoinChainStatus[]): string {
  const rows = [
    ['FILECOIN CHAIN', 'WATCH', 'EPOCH', 'CALLS/EPOCH', 'LEADER', 'MINERS', 'PROBLEMS'],
    ...chains.map((c) => [
      c.chainId,
      c.mode,
      c.height === undefined ? '-' : String(c.height),
      c.callsPerEpoch === undefined ? '-' : String(Math.round(c.callsPerEpoch * 10) / 10),
      c.leaderHost ?? '-',
      minersText(c.miners),
      [...c.problems, ...(c.notifyProblem ? [`polling: ${c.notifyProblem}`] : [])].join('; ') || '-',
    ]),
  ];
  return columns(rows);
}

export function formatChainStatus(chains: readonly ChainStatusEntry[], filecoin: readonly FilecoinChainStatus[] = []): string {
  if (chains.length === 0 && filecoin.length === 0) return 'no chain is watched\n';
  if (chains.length === 0) return formatFilecoinStatus(filecoin);
  const lava = formatLavaStatus(chains);
  return filecoin.length === 0 ? lava : `${lava}\n${formatFilecoinStatus(filecoin)}`;
}

function formatLavaStatus(chains: readonly ChainStatusEntry[]): string {
  const rows = [
    ['CHAIN', 'MODE', 'HEIGHT', 'LAG', 'PROVIDER target/min', 'CONSUMER target/min', 'SINCE', 'ENDPOINT', 'LEADER', 'PROBLEMS'],
    ...chains.map((c) => [
      c.chainId,
      c.mode,
      c.height === undefined ? '-' : String(c.height),
      lagText(c.lagMs),
      providerText(c.version),
      consumerText(c.version),
      c.versionHeight === undefined ? '-' : String(c.versionHeight),
      c.endpoint ? `${c.endpoint}${c.preferredEndpoint === false ? ' (fallback)' : ''}` : '-',
      c.leaderHost ?? '-',
      c.problems.length ? c.problems.join('; ') : '-',
    ]),
  ];
  return columns(rows);
}

export const chainStatusCommand = defineCliCommand({
  path: ['chain', 'status'],
  summary: 'Height, protocol version, endpoint and lag of each watched chain; epoch, watch mode and miners of each Filecoin chain (asks the chain-watcher)',
  description:
    'Asks a chain-watcher replica over the bus; it answers with each chain\'s leader view: the latest block it processed, ' +
    'how far behind wall-clock that block is (LAG), the Lava protocol version (provider/consumer target and min) and the ' +
    'height it was seen at, the RPC endpoint in use, and whether it follows blocks over the WebSocket or by polling. ' +
    'Filecoin chains of the proving watch follow in their own table: the last epoch observed for every miner, WATCH notify ' +
    '(Filecoin.ChainNotify over WebSocket) or poll (ChainHead, while the socket is down or refused, and why), node calls per ' +
    'epoch for all its miners, the leading replica and the miners. --json prints {"chains": [...], "filecoin": [...]}.',
  options: {
    'chain-id': { type: 'string', description: 'only this chain', placeholder: 'id' },
    json: { type: 'boolean', description: 'the reply as one JSON object' },
    timeout: { type: 'string', description: 'how long to wait for the watcher (ms)', default: '5000', placeholder: 'ms' },
    ...REMOTE_OPTIONS,
  },
  examples: ['fleetvisor chain status', 'fleetvisor chain status --chain-id lava-testnet-2 --json', 'fleetvisor chain status --chain-id calibnet'],
  async run({ options, io }) {
    const chainId = options['chain-id'];
    if (chainId !== undefined && !new RegExp(CHAIN_ID_PATTERN).test(chainId)) throw new UsageError(`--chain-id "${chainId}" is not a valid chain id`);
    const timeoutMs = Number(options.timeout);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new UsageError('--timeout must be a positive integer (ms)');
    const remote = remoteOf(options);
    const answer = async (ask: () => Promise<CommandReply<CommandResultOf<typeof ChainStatus>>>): Promise<number> => {
      const reply = await ask();
      if (!reply.ok) {
        io.err(`fleetvisor chain status: ${reply.error.code}: ${reply.error.message}${reply.error.code === 'unavailable' ? " (is 'fleetvisor chain-watcher run' running?)" : ''}\n`);
        return 1;
      }
      const chains = reply.result?.chains ?? [];
      const filecoin = reply.result?.filecoin ?? [];
      io.out(options.json ? JSON.stringify({ chains, filecoin }) + '\n' : formatChainStatus(chains, filecoin));
      return 0;
    };
    if (remote) return answer(() => askRemote(remote, ChainStatus, chainId ? { chainId } : {}, timeoutMs));
    const config = loadCliConfig();
    const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
    const nc = await connectNats(config, logger, { name: 'fleetvisor-cli' });
    try {
      const bus = new CommandBus({ nc, subjects: createSubjects(config.subjectRoot), logger });
      return await answer(() => bus.request(ChainStatus, chainId ? { chainId } : {}, { timeoutMs }));
    } finally {
      await nc.close();
    }
  },
});
