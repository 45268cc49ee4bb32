// How `events tail` shows an event: one aligned line for people, the whole record for --json.
import type { RecordedEvent, EventEnvelope } from '@fleetvisor/contracts';

export function formatEventLine(e: EventEnvelope | RecordedEvent, maxData = 160): string {
  const data = JSON.stringify(e.data);
  const shown = data.length > maxData ? data.slice(0, maxData - 1) + '…' : data;
  const pos = 'checkpoint' in e ? e.checkpoint.padEnd(14) + ' ' : '';
  return `${pos}${e.occurredAt}  ${e.stream.padEnd(28)} ${e.type.padEnd(20)} ${shown}`;
}

export function formatEventJson(e: EventEnvelope | RecordedEvent): string {
  return JSON.stringify(e);
}
