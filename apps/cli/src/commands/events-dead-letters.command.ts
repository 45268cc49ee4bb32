// `fleetvisor events dead-letters`: what consumers set aside (malformed messages, handlers that
// kept failing), with the reason and where each came from, newest last.
import { DeadLetterHeaders, connectNats, deadLetterStreamName } from '@fleetvisor/messaging/core';
import { createLogger } from '@fleetvisor/platform';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';

export interface DeadLetterRow {
  seq: number;
  time: string;
  consumer: string;
  kind: string;
  reason: string;
  originalSubject: string;
  eventId: string | undefined;
  deliveries: number | undefined;
  payload: string;
}

export const eventsDeadLettersCommand = defineCliCommand({
  path: ['events', 'dead-letters'],
  summary: 'List messages consumers dead-lettered, with the reason',
  options: {
    consumer: { type: 'string', description: 'only this consumer', placeholder: 'name' },
    limit: { type: 'string', description: 'show at most the last n', default: '50', placeholder: 'n' },
    json: { type: 'boolean', description: 'one JSON object per line, payload included' },
  },
  examples: ['fleetvisor events dead-letters', 'fleetvisor events dead-letters --consumer worker-registry --json'],
  async run({ options, io }) {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
    const config = loadCliConfig();
    const logger = createLogger({ name: 'fleetvisor-cli', level: 'warn', format: 'json', stream: 'stderr' });
    const nc = await connectNats(config, logger, { name: 'fleetvisor-cli' });
    try {
      const jsm = await nc.jetstreamManager();
      const stream = deadLetterStreamName(config.eventStreamName);
      const info = await jsm.streams.info(stream).catch(() => undefined);
      const rows: DeadLetterRow[] = [];
      if (info && info.state.messages > 0) {
        // Walk backwards from the newest so --limit costs O(limit) reads, not the whole stream.
        for (let seq = info.state.last_seq; seq >= info.state.first_seq && rows.length < limit; seq--) {
          const m = await jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
          if (!m) continue; // deleted or expired
          const h = (k: string) => m.header?.get(k) || undefined;
          const row: DeadLetterRow = {
            seq,
            time: m.time.toISOString(),
            consumer: h(DeadLetterHeaders.consumer) ?? '?',
            kind: h(DeadLetterHeaders.kind) ?? '?',
            reason: h(DeadLetterHeaders.reason) ?? '?',
            originalSubject: h(DeadLetterHeaders.originalSubject) ?? '?',
            eventId: h(DeadLetterHeaders.eventId),
            deliveries: h(DeadLetterHeaders.deliveries) ? Number(h(DeadLetterHeaders.deliveries)) : undefined,
            payload: new TextDecoder().decode(m.data),
          };
          if (!options.consumer || row.consumer === options.consumer) rows.push(row);
        }
      }
      rows.reverse();
      if (options.json) {
        for (const r of rows) io.out(JSON.stringify(r) + '\n');
      } else if (rows.length === 0) {
        io.out(`no dead letters in ${stream}\n`);
      } else {
        for (const r of rows) io.out(`${r.time}  ${r.consumer.padEnd(24)} ${r.kind.padEnd(15)} ${r.originalSubject}\n    ${r.reason}\n`);
      }
    } finally {
      await nc.close();
    }
  },
});
