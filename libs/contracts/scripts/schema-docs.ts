// Renders everything under docs/ that comes from libs/contracts: one JSON Schema per event type
// and version, the envelope schema, request/reply schemas per command, and docs/events.md.
// Pure: returns file contents by path (relative to the repository root); the CLI writes them and
// a unit test compares them with the files on disk.
import {
  ALL_COMMANDS,
  ALL_EVENTS,
  EVENT_DEFINITIONS,
  EventEnvelopeSchema,
  PREVIOUS_EVENT_EXAMPLES,
  commandReplyJsonSchema,
  commandRequestJsonSchema,
  commandSchemaFile,
  createSubjects,
  encodeSubjectToken,
  envelopeJsonSchema,
  eventJsonSchema,
  eventSchemaFile,
  exampleEnvelope,
  streamPatternOf,
  subjectPatternOf,
  toJsonSchema,
  type CommandDefinition,
  type EventDefinition,
  type JsonSchema,
} from '../src';

/** Directories the generator owns entirely (stale files there are drift). */
export const GENERATED_DIRS = ['docs/events', 'docs/commands'] as const;
export const EVENTS_MD = 'docs/events.md';

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

type ExampleType = keyof typeof EVENT_DEFINITIONS;

/** Versions of a type that have a published schema: the current one and any kept earlier ones. */
function publishedVersions(def: EventDefinition): number[] {
  const previous = Object.keys(def.previousSchemas ?? {}).map(Number);
  return [...previous.sort((a, b) => a - b), def.version];
}

function exampleFor(def: EventDefinition, version: number): unknown[] {
  if (version !== def.version && PREVIOUS_EVENT_EXAMPLES[def.type]?.[version] === undefined) return [];
  return [exampleEnvelope(def.type as ExampleType, version)];
}

export function generateSchemaDocs(): Map<string, string> {
  const files = new Map<string, string>();
  files.set('docs/events/envelope.json', json(envelopeJsonSchema()));
  for (const def of ALL_EVENTS) {
    for (const v of publishedVersions(def)) {
      files.set(`docs/events/${eventSchemaFile(def.type, v)}`, json(eventJsonSchema(def, v, exampleFor(def, v))));
    }
  }
  for (const cmd of ALL_COMMANDS) {
    files.set(`docs/commands/${commandSchemaFile(cmd, 'request')}`, json(commandRequestJsonSchema(cmd)));
    files.set(`docs/commands/${commandSchemaFile(cmd, 'reply')}`, json(commandReplyJsonSchema(cmd)));
  }
  files.set(EVENTS_MD, renderEventsMarkdown());
  return files;
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Text for a table cell: pipes escaped, and `<`/`>` outside code spans as entities (not HTML tags). */
const cell = (s: string): string =>
  s
    .split('`')
    .map((part, i) => (i % 2 === 0 ? part.replace(/</g, '&lt;').replace(/>/g, '&gt;') : part))
    .join('`')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
const code = (s: string): string => '`' + s + '`';
/** Longer patterns are left to the JSON Schema files; the table would be unreadable. */
const PATTERN_SHOWN_MAX = 48;

interface FieldRow {
  name: string;
  type: string;
  required: boolean;
  description: string;
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  const anyOf = s.anyOf as JsonSchema[] | undefined;
  if (anyOf) {
    if (anyOf.every((v) => v.const !== undefined)) return anyOf.map((v) => code(JSON.stringify(v.const))).join(' | ');
    return anyOf.map(typeOf).join(' | ');
  }
  const t = s.type as string | undefined;
  const limits: string[] = [];
  if (t === 'string') {
    if (s.format) limits.push(String(s.format));
    if (s.maxLength !== undefined) limits.push(`≤ ${String(s.maxLength)} chars`);
    if (s.pattern) limits.push(String(s.pattern).length <= PATTERN_SHOWN_MAX ? code(String(s.pattern)) : 'pattern in schema');
  } else if (t === 'integer' || t === 'number') {
    if (s.minimum !== undefined) limits.push(`≥ ${String(s.minimum)}`);
    if (s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER) limits.push(`≤ ${String(s.maximum)}`);
  } else if (t === 'array') {
    const items = s.items as JsonSchema;
    return `array of ${typeOf(items)}${s.maxItems !== undefined ? ` (≤ ${String(s.maxItems)})` : ''}`;
  } else if (t === 'object' && s.patternProperties) {
    const [key, value] = Object.entries(s.patternProperties as Record<string, JsonSchema>)[0]!;
    return `map ${code(key)} → ${typeOf(value)}`;
  }
  return limits.length > 0 ? `${t ?? 'any'} (${limits.join(', ')})` : (t ?? 'any');
}

/** Flattens an object schema into rows: nested objects as `a.b`, arrays of objects as `a[].b`. */
function fieldRows(schema: JsonSchema, prefix = ''): FieldRow[] {
  const rows: FieldRow[] = [];
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  for (const [key, prop] of Object.entries(props)) {
    const name = prefix + key;
    const nestedObject = (s: JsonSchema): JsonSchema | undefined =>
      s.type === 'object' && s.properties ? s : ((s.anyOf as JsonSchema[] | undefined)?.find((v) => v.type === 'object' && v.properties) ?? undefined);
    const obj = nestedObject(prop);
    const items = prop.type === 'array' ? (prop.items as JsonSchema) : undefined;
    const itemObj = items ? nestedObject(items) : undefined;
    let type = typeOf(prop);
    if (obj) type = (prop.anyOf as JsonSchema[] | undefined)?.some((v) => v.type === 'null') ? 'object | null' : 'object';
    if (itemObj) type = `array of object${prop.maxItems !== undefined ? ` (≤ ${String(prop.maxItems)})` : ''}`;
    rows.push({ name, type, required: required.has(key), description: String(prop.description ?? obj?.description ?? '') });
    if (obj) rows.push(...fieldRows(obj, `${name}.`));
    if (itemObj) rows.push(...fieldRows(itemObj, `${name}[].`));
  }
  return rows;
}

function fieldTable(schema: JsonSchema): string[] {
  const rows = fieldRows(schema);
  return [
    '| Field | Type | Required | Description |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${code(r.name)} | ${cell(r.type)} | ${r.required ? 'yes' : 'no'} | ${cell(r.description)} |`),
  ];
}

const AREA_TITLES: Record<string, string> = {
  host: 'Host events',
  chain: 'Chain events (chain-watcher)',
  service: 'Service events (service-runner)',
  worker: 'Worker events (worker-registry)',
  stats: 'API-call statistics (stats-collector)',
  system: 'System events',
};

function renderEventsMarkdown(): string {
  const subjects = createSubjects('fleet');
  const out: string[] = [];
  const p = (...lines: string[]): void => {
    out.push(...lines);
  };

  p(
    '# Fleetvisor events',
    '',
    '<!-- Generated from libs/contracts by `npm run gen:schemas`; do not edit by hand. `npm run gen:schemas -- --check` fails when this file is stale. -->',
    '',
    'Every fact in Fleetvisor is an event in the Postgres log, and every event is published to NATS JetStream.',
    'This page lists every event type and version, where it is published, and how to read it from any language.',
    'Each type has a JSON Schema (draft 2020-12) of its full envelope under [docs/events/](events/); commands have',
    'request and reply schemas under [docs/commands/](commands/). The TypeScript definitions in `libs/contracts` are the',
    'source of all of them.',
    '',
    '## The envelope',
    '',
    'Every event travels in the same envelope ([envelope.json](events/envelope.json)):',
    '',
    ...fieldTable(toJsonSchema(EventEnvelopeSchema)),
    '',
    '- `id` is a UUID v7 (time-ordered) and is the event\'s identity everywhere: the log is idempotent on it and the bus',
    '  deduplicates on it.',
    '- `stream` is `<area>-<id>`; the area decides which types may appear in it (a `VersionChanged` is refused in a',
    '  `worker-*` stream). Most types also derive the stream id from their data (e.g. `chain-<chainId>`) and are',
    '  refused in any other stream.',
    '- `version` is the schema version of `data` for that type (see [Versioning](#versioning-and-upcasting)).',
    '- `metadata` never holds a secret; no event schema has a field for one.',
    '',
    '## Event types',
    '',
    '| Type | Version | Stream | NATS subject | Schema | Description |',
    '|---|---|---|---|---|---|',
  );
  for (const def of ALL_EVENTS) {
    for (const v of publishedVersions(def).reverse()) {
      const desc = v === def.version ? def.description : `Superseded by v${def.version}; upcast on read.`;
      p(
        `| [${def.type}](#${def.type.toLowerCase()}) | ${v}${v === def.version ? '' : ' (old)'} | ${code(streamPatternOf(def))} | ${code(subjectPatternOf(def))} | [${eventSchemaFile(def.type, v)}](events/${eventSchemaFile(def.type, v)}) | ${cell(desc)} |`,
      );
    }
  }
  p('', 'Ids in angle brackets are filled in and encoded as subject tokens (next section).', '');

  const areas = [...new Set(ALL_EVENTS.map((d) => d.area))];
  for (const area of areas) {
    p(`## ${AREA_TITLES[area] ?? area}`, '');
    for (const def of ALL_EVENTS.filter((d) => d.area === area)) {
      p(`### ${def.type}`, '', cell(def.description), '');
      p(`- Version: ${def.version}${def.previousSchemas ? ` (earlier: ${Object.keys(def.previousSchemas).map((v) => `v${v}`).join(', ')})` : ''}`);
      p(`- Stream: ${code(streamPatternOf(def))}${def.streamId ? ' (checked against the data)' : ' (by convention)'}`);
      p(`- Subject: ${code(subjectPatternOf(def))}`);
      p(`- Schema: [${eventSchemaFile(def.type, def.version)}](events/${eventSchemaFile(def.type, def.version)})`);
      if (def.validate) p('- Further rules (checked by the catalog, not expressible in JSON Schema): see the description above.');
      p('', ...fieldTable(toJsonSchema(def.schema)), '');
    }
  }

  const encodingExamples = ['lava-testnet-2', 'host-01.example.com/consumer-ETH1', '10.0.0.5:17890', 'a b', 'x*y>z', '50%', 'tab\there'];
  p(
    '## Subjects and their encoding',
    '',
    '| What | Subject |',
    '|---|---|',
    `| Event | ${code('fleet.evt.<area>.<streamId>.<Type>')}, e.g. ${code(subjects.event('chain-lava-testnet-2', 'VersionChanged'))} |`,
    `| All events (what FLEET_EVENTS captures) | ${code(subjects.allEvents())} |`,
    `| Command | ${code('fleet.cmd.<service>.<verb>')}, e.g. ${code(subjects.command('worker-registry', 'pause'))} |`,
    `| Dead letters | ${code('fleet.dlq.<consumer>')} |`,
    '',
    'A NATS subject token cannot contain `.`, `*`, `>` or whitespace, and stream ids can contain `.` (host names,',
    'addresses). Every token Fleetvisor puts in a subject goes through `encodeSubjectToken`: each of `.` `*` `>`,',
    'any whitespace, and `%` itself becomes `%XX` for each of its UTF-8 bytes (uppercase hex); everything else is kept.',
    '`decodeSubjectToken` reverses it. The `<area>` and `<Type>` tokens never need encoding.',
    '',
    '| Value | Token |',
    '|---|---|',
    ...encodingExamples.map((v) => `| ${code(JSON.stringify(v))} | ${code(encodeSubjectToken(v))} |`),
    '',
    `For example, service \`consumer-ETH1\` on host \`host-01.example.com\` publishes \`ServiceStarted\` on`,
    code(subjects.event('service-host-01.example.com/consumer-ETH1', 'ServiceStarted')) + '.',
    'To filter on one stream, encode its id the same way (five lines in any language: replace each of those',
    'characters by its percent-encoded UTF-8 bytes).',
    '',
    '## Subscribing from any language',
    '',
    '1. Events are in the JetStream stream **`FLEET_EVENTS`**, which captures `fleet.evt.>`. Each message body is one',
    '   envelope as UTF-8 JSON; the header **`Nats-Msg-Id` is the event `id`** (the relay also sets `Fleet-Event-Type`,',
    '   `Fleet-Stream`, `Fleet-Stream-Version` and `Fleet-Checkpoint`).',
    '2. Create a durable consumer with a filter subject (`fleet.evt.worker.>`, `fleet.evt.chain.*.VersionChanged`,',
    '   `fleet.evt.service.host-01%2Eexample%2Ecom/*.>` ...), explicit ack, and deliver policy `all` (or',
    '   `new`). Ack each message after you have handled it.',
    '3. Delivery is at least once. The relay publishes each event with `Nats-Msg-Id = id`, so JetStream drops',
    '   republished copies inside its duplicate window, but redelivery after a missed ack still happens:',
    '   **deduplicate by event id** (or make handling idempotent). Within one stream, events are published in log order.',
    '4. Validate `data` with the schema for its `type` and `version` (any draft 2020-12 validator). A `version` you',
    '   do not know yet is a newer schema: stop or park the message, do not guess.',
    '',
    'With the `nats` CLI:',
    '',
    '```sh',
    "nats consumer add FLEET_EVENTS my-tool --pull --filter 'fleet.evt.chain.*.VersionChanged' --ack explicit --deliver all --defaults",
    'nats consumer next FLEET_EVENTS my-tool --count 10',
    '```',
    '',
    'Python (nats-py):',
    '',
    '```python',
    'js = nc.jetstream()',
    'sub = await js.pull_subscribe("fleet.evt.worker.>", durable="my-tool", stream="FLEET_EVENTS")',
    'for msg in await sub.fetch(100):',
    '    event = json.loads(msg.data)          # the envelope',
    '    if seen(msg.headers["Nats-Msg-Id"]):  # == event["id"]',
    '        await msg.ack(); continue',
    '    handle(event["type"], event["version"], event["data"])',
    '    await msg.ack()',
    '```',
    '',
    'Go (nats.go jetstream):',
    '',
    '```go',
    'cons, _ := js.CreateOrUpdateConsumer(ctx, "FLEET_EVENTS", jetstream.ConsumerConfig{',
    '    Durable: "my-tool", FilterSubject: "fleet.evt.service.>", AckPolicy: jetstream.AckExplicitPolicy})',
    'cons.Consume(func(m jetstream.Msg) { id := m.Headers().Get("Nats-Msg-Id"); /* dedupe, handle */ m.Ack() })',
    '```',
    '',
    'TypeScript processes use `fleetEvents.parse(json)` from `@fleetvisor/contracts`, which validates, upcasts and',
    'gives a clear reason for anything it refuses.',
    '',
    '## Commands',
    '',
    'Commands are NATS request-reply on `fleet.cmd.<service>.<verb>`, or `fleet.cmd.<service>.<instance>.<verb>` for',
    'commands one instance serves (each worker-agent serves its own worker name). The request is JSON; every reply is',
    '`{ "ok": true, "result": ... }` or `{ "ok": false, "error": { "code": "not_found", "message": "..." } }`',
    '(codes: `invalid_request`, `not_found`, `conflict`, `timeout`, `unavailable`, `internal`, or a service\'s own',
    'snake_case code).',
    '',
    '| Subject | Request | Reply | Description |',
    '|---|---|---|---|',
    ...ALL_COMMANDS.map((c: CommandDefinition) => {
      const req = commandSchemaFile(c, 'request');
      const rep = commandSchemaFile(c, 'reply');
      // Instance-addressed commands show their instance token (it is not escaped: `<`/`>` are a placeholder).
      const subject = c.instance
        ? `fleet.cmd.${encodeSubjectToken(c.service)}.<${c.instance}>.${encodeSubjectToken(c.verb)}`
        : c.scope
          ? `${subjects.command(c.service, c.verb)}.<${c.scope}>`
          : subjects.command(c.service, c.verb);
      return `| ${code(subject)} | [${req}](commands/${req}) | [${rep}](commands/${rep}) | ${cell(c.description)} |`;
    }),
    '',
    "For example: `nats request fleet.cmd.worker-registry.pause '{\"worker\":\"w-01\",\"index\":3,\"actor\":\"alice\"}'`.",
    '',
    '## Versioning and upcasting',
    '',
    '- Each event type has its own schema version, starting at 1. **Any change to a type\'s data schema is a new',
    '  version**: a new field, a removed field, a tighter or looser limit. (Data schemas refuse unknown',
    '  properties, so even an added optional field would be refused by readers of the old version.)',
    '- A new version comes with an **upcaster** from the previous one: a pure function from the old data (and the',
    '  envelope as read, for facts like `occurredAt`) to the new data. It must be total: every valid old event',
    '  must become a valid new one. `defineEvent` refuses a version without upcasters for every step.',
    '- The log is never rewritten. Old events stay as written and are **upcast on read** (`fleetEvents.parse`),',
    '  so projections and handlers only ever see the current version. An old event is checked against its own',
    '  version\'s schema first. (Reading the log, an event at its current version is not checked again: it was',
    '  validated when appended, which is why a schema change must always be a new version.)',
    '- The relay publishes events as its build reads them from the log, that is upcast to the versions it knows.',
    '  Messages published before a version bump stay in JetStream as they were, so a subscriber that replays history',
    '  can receive any version listed in the table above. The schema files of earlier versions stay published',
    '  (`<Type>.v1.json` ...) and are never changed.',
    '- A reader that meets a version newer than it knows **refuses** it (`... version 3 is newer than this build',
    '  knows (2)`); the consumer dead-letters it rather than guessing. Deploy readers before writers.',
    '- Renaming a type or moving it to another area is a new type, not a new version. The envelope itself has no',
    '  version and does not change.',
    '',
    'Example: `HostOnline` v2 bounds `fleetvisorVersion` to 1..100 characters (v1 accepted any string); its upcaster',
    'cuts longer values and turns an empty one into `"unknown"`.',
    '',
  );
  return out.join('\n');
}
