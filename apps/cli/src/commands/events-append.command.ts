// `fleetvisor events append`: record one event by hand (operators' notes, scripts, demos). The
// event is validated against its contract exactly as a service's would be.
import { fleetEvents, parseStreamName, newEvent, type EventDefinition } from '@fleetvisor/contracts';
import type { ExpectedVersion } from '@fleetvisor/event-store';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { loadCliConfig } from '../config';
import { withEventLog } from '../event-log';

function parseExpected(text: string | undefined): ExpectedVersion {
  if (text === undefined) return 'any';
  if (text === 'any' || text === 'no_stream' || text === 'stream_exists') return text;
  if (/^\d+$/.test(text)) return Number(text);
  throw new UsageError(`--expected-version must be any, no_stream, stream_exists or a number, got "${text}"`);
}

export const eventsAppendCommand = defineCliCommand({
  path: ['events', 'append'],
  summary: 'Append one event to a stream (validated against its contract)',
  options: {
    stream: { type: 'string', description: 'stream name, e.g. host-box1', placeholder: 'stream' },
    type: { type: 'string', description: `event type (${fleetEvents.types.length} known; see docs/events.md)`, placeholder: 'Type' },
    data: { type: 'string', description: 'event data as JSON', placeholder: 'json' },
    'expected-version': { type: 'string', description: 'any | no_stream | stream_exists | <n>', placeholder: 'v' },
    actor: { type: 'string', description: 'who is recording it (metadata.actor)', placeholder: 'name' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  examples: [`fleetvisor events append --stream host-box1 --type HostOffline --data '{"host":"box1","process":"manual","pid":1,"reason":"maintenance"}'`],
  async run({ options, io }) {
    const { stream, type, data } = options;
    if (!stream || !type || data === undefined) throw new UsageError('--stream, --type and --data are required');
    const def: EventDefinition | undefined = fleetEvents.get(type);
    if (!def) throw new UsageError(`unknown event type "${type}"; known: ${fleetEvents.types.join(', ')}`);
    let parsedData: unknown;
    try {
      parsedData = JSON.parse(data);
    } catch (e) {
      throw new UsageError(`--data is not valid JSON: ${(e as Error).message}`);
    }
    let streamId: string;
    try {
      const s = parseStreamName(stream);
      if (s.area !== def.area) throw new Error(`${type} belongs in a ${def.area}-* stream`);
      streamId = s.id;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const expectedVersion = parseExpected(options['expected-version']);
    const event = newEvent(def, streamId, parsedData as never, { actor: options.actor ?? 'cli', host: loadCliConfig().host });
    const check = fleetEvents.parse(event);
    if (!check.ok) throw new UsageError(`invalid event: ${check.reason}`);
    const result = await withEventLog(loadCliConfig(), ({ store }) => store.appendToStream(stream, [event], { expectedVersion }));
    if (options.json) io.out(JSON.stringify({ id: event.id, stream, ...result }) + '\n');
    else io.out(`appended ${type} ${event.id} to ${stream} (stream version ${result.nextExpectedVersion})\n`);
  },
});
