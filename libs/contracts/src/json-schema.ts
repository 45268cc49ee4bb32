// Plain JSON Schema (draft 2020-12) documents built from the TypeBox definitions, for tools in
// any language and for the gateway's OpenAPI. TypeBox schemas already are JSON Schema; this adds
// the envelope around each event's data, ids, titles and examples, and drops TypeBox's symbols.
import type { TSchema } from '@sinclair/typebox';
import { commandReplySchema, type CommandDefinition } from './commands';
import type { EventDefinition } from './define-event';
import { EventEnvelopeSchema, STREAM_NAME_PATTERN } from './envelope';

export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

export type JsonSchema = { [key: string]: unknown };

/** A TypeBox schema as plain JSON (symbol keys such as [Kind] removed). */
export function toJsonSchema(schema: TSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

export const eventSchemaId = (type: string, version: number): string => `urn:fleetvisor:event:${type}:v${version}`;
export const eventSchemaFile = (type: string, version: number): string => `${type}.v${version}.json`;
export const commandSchemaId = (def: CommandDefinition, part: 'request' | 'reply'): string =>
  `urn:fleetvisor:command:${def.service}:${def.verb}:${part}`;
export const commandSchemaFile = (def: CommandDefinition, part: 'request' | 'reply'): string => `${def.service}.${def.verb}.${part}.json`;

/** Stream pattern of an event type for people, e.g. `chain-<chainId>`. */
export function streamPatternOf(def: EventDefinition): string {
  return def.streamPattern ?? `${def.area}-<id>`;
}

/** NATS subject pattern of an event type, e.g. `fleet.evt.chain.<chainId>.VersionChanged`. */
export function subjectPatternOf(def: EventDefinition, root = 'fleet'): string {
  const id = streamPatternOf(def).slice(def.area.length + 1);
  return `${root}.evt.${def.area}.${id}.${def.type}`;
}

/** STREAM_NAME_PATTERN narrowed to one area. */
export function streamPatternRegexFor(area: string): string {
  const narrowed = STREAM_NAME_PATTERN.replace(/^\^\([a-z|]+\)-/, `^${area}-`);
  if (narrowed === STREAM_NAME_PATTERN) throw new Error('STREAM_NAME_PATTERN no longer starts with ^(areas)-');
  return narrowed;
}

const GENERATED = 'Generated from libs/contracts by `npm run gen:schemas`; do not edit by hand.';

export function envelopeJsonSchema(): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: 'urn:fleetvisor:event:envelope',
    $comment: GENERATED,
    title: 'Fleetvisor event envelope',
    description:
      'Every Fleetvisor event, in the log and on the bus (JetStream stream FLEET_EVENTS, subject fleet.evt.<area>.<streamId>.<Type>, ' +
      'header Nats-Msg-Id = id). `data` is described per type and version in <Type>.v<version>.json.',
    ...toJsonSchema(EventEnvelopeSchema),
  };
}

/**
 * The full envelope schema of one event type at one version (the current one by default): `type`
 * and `version` are constants, `stream` is narrowed to the type's area, `data` is the type's schema.
 */
export function eventJsonSchema(def: EventDefinition, version = def.version, examples: unknown[] = []): JsonSchema {
  const data = version === def.version ? def.schema : def.previousSchemas?.[version];
  if (!data) throw new Error(`${def.type} has no schema for version ${version}`);
  const envelope = toJsonSchema(EventEnvelopeSchema) as { properties: Record<string, JsonSchema>; required: string[] };
  const superseded = version < def.version ? ` (superseded: version ${def.version} is current; readers upcast v${version} on read)` : '';
  const rules = def.validate ? ' Further rules are checked by the catalog (see the description).' : '';
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: eventSchemaId(def.type, version),
    $comment: GENERATED,
    title: `${def.type} v${version}`,
    description: `${def.description}${superseded}`,
    'x-fleetvisor': {
      area: def.area,
      stream: streamPatternOf(def),
      subject: subjectPatternOf(def),
      version,
      currentVersion: def.version,
    },
    type: 'object',
    required: envelope.required,
    properties: {
      ...envelope.properties,
      type: { const: def.type, type: 'string' },
      stream: { type: 'string', pattern: streamPatternRegexFor(def.area), description: `Stream: ${streamPatternOf(def)}` },
      version: { const: version, type: 'integer' },
      data: { ...toJsonSchema(data), description: `${def.type} v${version} data.${rules}` },
    },
    additionalProperties: false,
    ...(examples.length > 0 ? { examples } : {}),
  };
}

export function commandRequestJsonSchema(def: CommandDefinition): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: commandSchemaId(def, 'request'),
    $comment: GENERATED,
    title: `${def.service}.${def.verb} request`,
    description: def.description,
    ...toJsonSchema(def.request),
  };
}

export function commandReplyJsonSchema(def: CommandDefinition): JsonSchema {
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: commandSchemaId(def, 'reply'),
    $comment: GENERATED,
    title: `${def.service}.${def.verb} reply`,
    description: `Reply to ${def.service}.${def.verb}: { ok: true, result } or { ok: false, error: { code, message } }.`,
    ...toJsonSchema(commandReplySchema(def.result)),
  };
}
