// `fleetvisor events tail`: follow the event log, from the beginning, the end or a checkpoint,
// filtered by stream and type; one line per event, or the whole record with --json.
import { isCheckpoint, START_CHECKPOINT } from '@fleetvisor/event-store';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { withEventLog } from '../event-log';
import { formatEventJson, formatEventLine } from '../event-format';

const BATCH = 500;

export const eventsTailCommand = defineCliCommand({
  path: ['events', 'tail'],
  summary: 'Print events from the log as they are recorded (live), or from a position',
  description:
    'Positions are checkpoints (<transaction>:<position>, shown first on each line and in --json). ' +
    'Without --once it keeps following until interrupted.',
  options: {
    stream: { type: 'string', description: 'only this stream, e.g. chain-lava-testnet-2', placeholder: 'stream' },
    type: { type: 'string', description: 'only these event types (comma-separated)', placeholder: 'Type[,Type]' },
    from: { type: 'string', description: 'beginning | end | <checkpoint>', default: 'end', placeholder: 'pos' },
    once: { type: 'boolean', description: 'print what is there now and exit instead of following' },
    limit: { type: 'string', description: 'exit after this many events', placeholder: 'n' },
    json: { type: 'boolean', description: 'one JSON object per line (the recorded event)' },
    'poll-ms': { type: 'string', description: 'how often to look for new events when idle', default: '200', placeholder: 'ms' },
  },
  examples: ['fleetvisor events tail', 'fleetvisor events tail --from beginning --once --json', 'fleetvisor events tail --stream host-box1 --type HostOnline,HostOffline'],
  async run({ options, io }) {
    const from = options.from;
    if (from !== 'beginning' && from !== 'end' && !isCheckpoint(from)) {
      throw new UsageError(`--from must be beginning, end or a checkpoint like 12345:67, got "${from}"`);
    }
    const limit = options.limit === undefined ? Infinity : Number(options.limit);
    if (!(limit > 0) || (Number.isFinite(limit) && !Number.isInteger(limit))) throw new UsageError(`--limit must be a positive integer`);
    const pollMs = Number(options['poll-ms']);
    if (!Number.isInteger(pollMs) || pollMs < 10) throw new UsageError('--poll-ms must be an integer >= 10');
    const types = options.type ? options.type.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    let stopped = false;
    void io.interrupted.then(() => (stopped = true));

    await withEventLog(loadCliConfig(), async ({ store }) => {
      let after = from === 'beginning' ? START_CHECKPOINT : from === 'end' ? await store.headCheckpoint() : from;
      let printed = 0;
      while (!stopped && printed < limit) {
        const { events, checkpoint } = await store.readAll(after, BATCH, types ? { types } : {});
        after = checkpoint;
        for (const e of events) {
          if (options.stream && e.stream !== options.stream) continue;
          io.out((options.json ? formatEventJson(e) : formatEventLine(e)) + '\n');
          if (++printed >= limit) break;
        }
        if (events.length === 0) {
          if (options.once) break;
          await Promise.race([new Promise((r) => setTimeout(r, pollMs)), io.interrupted]);
        }
      }
    });
  },
});
