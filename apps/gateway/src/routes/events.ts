// The event log, read by the gateway itself (the one place it reads the store): a paged read with
// stream / type / time filters, cursors being checkpoints of the global order. The live stream is
// in events-feed.ts.
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, EventEnvelopeSchema, type RecordedEvent } from '@fleetvisor/contracts';
import { isCheckpoint, START_CHECKPOINT } from '@fleetvisor/event-store/core';
import { Problem } from '../http/problem';
import { route, type RouteDef } from '../http/route';

export const CHECKPOINT_DESCRIPTION = 'A position in the log\'s global order, <transaction_id>:<global_position> (0:0 = the beginning)';

export const RecordedEventSchema = Type.Object(
  {
    ...EventEnvelopeSchema.properties,
    streamVersion: Type.Integer({ minimum: 1, description: 'Position inside its stream' }),
    globalPosition: Type.String({ pattern: '^\\d+$', description: 'Global position in the log' }),
    checkpoint: Type.String({ pattern: '^\\d+:\\d+$', description: CHECKPOINT_DESCRIPTION }),
  },
  { additionalProperties: false, description: 'An event as the log holds it, with where it sits' },
);

export const EventFilterSchema = {
  stream: Type.Optional(
    Type.String({ minLength: 1, maxLength: 220, pattern: '^[A-Za-z0-9][A-Za-z0-9._:/@-]*\\*?$', description: 'Only this stream, or streams starting with it when it ends with * (e.g. worker-*)' }),
  ),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, pattern: '^[A-Z][A-Za-z0-9]{1,99}(,[A-Z][A-Za-z0-9]{1,99})*$', description: 'Only these event types, comma-separated' })),
};

export interface EventFilter {
  stream?: string | undefined;
  type?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export function typesOf(filter: EventFilter): string[] | undefined {
  return filter.type === undefined ? undefined : filter.type.split(',');
}

export function eventMatches(e: RecordedEvent, filter: EventFilter): boolean {
  if (filter.stream !== undefined) {
    if (filter.stream.endsWith('*') ? !e.stream.startsWith(filter.stream.slice(0, -1)) : e.stream !== filter.stream) return false;
  }
  if (filter.since !== undefined && Date.parse(e.occurredAt) < Date.parse(filter.since)) return false;
  if (filter.until !== undefined && Date.parse(e.occurredAt) >= Date.parse(filter.until)) return false;
  return true;
}

/** The event as the API shows it: the envelope and its place, nothing else. */
export function eventView(e: RecordedEvent): Static<typeof RecordedEventSchema> {
  return { id: e.id, type: e.type, stream: e.stream, version: e.version, data: e.data, metadata: e.metadata, occurredAt: e.occurredAt, streamVersion: e.streamVersion, globalPosition: e.globalPosition, checkpoint: e.checkpoint };
}

/** Events scanned at most per request: a filter that matches little returns fewer events, and `next` to continue. */
const SCAN_MAX = 10_000;

export const eventRoutes: RouteDef[] = [
  route({
    method: 'GET',
    path: '/api/v1/events',
    operationId: 'listEvents',
    tag: 'events',
    role: 'read',
    summary: 'A page of the event log in global order, filtered by stream, type and time',
    description:
      'Pass `after` = `next` of the previous page to continue. A page may hold fewer than `limit` events when the filter matches little (at most 10,000 events are scanned per request); `caughtUp` says the end of the log was reached.',
    query: Type.Object(
      {
        after: Type.Optional(Type.String({ pattern: '^\\d{1,20}:\\d{1,19}$', description: `Continue after this position (default 0:0). ${CHECKPOINT_DESCRIPTION}` })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Events per page (default 100)' })),
        ...EventFilterSchema,
        since: Type.Optional(DateTime({ description: 'Only events that occurred at or after this time' })),
        until: Type.Optional(DateTime({ description: 'Only events that occurred before this time' })),
      },
      { additionalProperties: false },
    ),
    response: Type.Object(
      {
        events: Type.Array(RecordedEventSchema, { maxItems: 1000 }),
        next: Type.String({ description: `Cursor to continue after (pass as after). ${CHECKPOINT_DESCRIPTION}` }),
        caughtUp: Type.Boolean({ description: 'The end of the log was reached' }),
      },
      { additionalProperties: false },
    ),
    async handle({ query }, { store }) {
      let cursor = query.after ?? START_CHECKPOINT;
      if (!isCheckpoint(cursor)) throw new Problem(400, `query.after: "${cursor}" is not a checkpoint`, { field: 'query.after' });
      const limit = query.limit ?? 100;
      const types = typesOf(query);
      const out: Static<typeof RecordedEventSchema>[] = [];
      let scanned = 0;
      let caughtUp = false;
      while (out.length < limit && scanned < SCAN_MAX) {
        const page = await store.readAll(cursor, Math.min(1000, SCAN_MAX - scanned), types ? { types } : {});
        if (page.events.length === 0) {
          caughtUp = true;
          break;
        }
        for (const e of page.events) {
          scanned += 1;
          cursor = e.checkpoint;
          if (eventMatches(e, query)) out.push(eventView(e));
          if (out.length >= limit) break;
        }
      }
      return { events: out, next: cursor, caughtUp };
    },
  }),
];
