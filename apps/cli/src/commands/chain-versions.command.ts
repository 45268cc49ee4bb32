// `fleetvisor chain versions --chain-id X [--json]`: the protocol version history of a chain, read
// straight from the log (stream chain-<chainId>): every VersionChanged, oldest first.
import { CHAIN_ID_PATTERN, streamName, VersionChanged, type EventData } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { withEventLog } from '../event-log';

type VersionChange = EventData<typeof VersionChanged>;

export interface VersionHistoryRow extends VersionChange {
  occurredAt: string;
  eventId: string;
  host?: string;
}

export function formatVersionHistory(chainId: string, rows: readonly VersionHistoryRow[]): string {
  if (rows.length === 0) return `no version recorded for ${chainId} (is the chain-watcher watching it?)\n`;
  const table = [
    ['HEIGHT', 'RECORDED', 'PROVIDER target/min', 'CONSUMER target/min', 'PREVIOUS'],
    ...rows.map((r) => [
      String(r.height),
      r.occurredAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      `${r.current.providerTarget}/${r.current.providerMin}`,
      `${r.current.consumerTarget}/${r.current.consumerMin}`,
      r.previous ? `${r.previous.providerTarget}/${r.previous.providerMin} ${r.previous.consumerTarget}/${r.previous.consumerMin}` : '(first seen)',
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export const chainVersionsCommand = defineCliCommand({
  path: ['chain', 'versions'],
  summary: 'Protocol version history of a chain, from the event log',
  description: 'Reads stream chain-<chain-id> from PostgreSQL and lists every VersionChanged: the height it was seen at, when, and the versions.',
  options: {
    'chain-id': { type: 'string', description: 'the chain (required)', placeholder: 'id' },
    json: { type: 'boolean', description: 'one JSON object: { chainId, versions: [...] }' },
  },
  examples: ['fleetvisor chain versions --chain-id lava-testnet-2', 'fleetvisor chain versions --chain-id lava-testnet-2 --json'],
  async run({ options, io }) {
    const chainId = options['chain-id'];
    if (!chainId) throw new UsageError('--chain-id is required');
    if (!new RegExp(CHAIN_ID_PATTERN).test(chainId)) throw new UsageError(`--chain-id "${chainId}" is not a valid chain id`);
    const config = loadCliConfig();
    const history = await withEventLog(config, async (log) => {
      const { events } = await log.store.readStream(streamName('chain', chainId));
      if (events.length === 0) return undefined;
      return events
        .filter((e) => e.type === VersionChanged.type)
        .map((e): VersionHistoryRow => ({ ...(e.data as VersionChange), occurredAt: e.occurredAt, eventId: e.id, ...(e.metadata.host ? { host: e.metadata.host } : {}) }));
    });
    // A chain nothing was ever recorded for is unknown, as `chain status` says of a chain not watched.
    if (!history) {
      io.err(`fleetvisor chain versions: chain ${chainId} is unknown: nothing recorded for it in the log (a watched chain is in FLEETVISOR_CHAINS; see 'fleetvisor chain status')\n`);
      return 1;
    }
    const rows = history;
    io.out(options.json ? JSON.stringify({ chainId, versions: rows }) + '\n' : formatVersionHistory(chainId, rows));
    return 0;
  },
});
