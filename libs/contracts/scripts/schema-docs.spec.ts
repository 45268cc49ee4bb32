// The published schemas and docs/events.md are generated; this fails when they drift from the
// code (fix: npm run gen:schemas).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_COMMANDS, ALL_EVENTS, JSON_SCHEMA_DIALECT, subjectPatternOf, toJsonSchema } from '../src';
import { findDrift, REPO_ROOT } from './generate-schemas';
import { EVENTS_MD, generateSchemaDocs } from './schema-docs';

const files = generateSchemaDocs();
const parsed = (rel: string) => JSON.parse(files.get(rel)!) as Record<string, unknown>;

describe('generated docs', () => {
  it('match docs/ on disk (run `npm run gen:schemas` after changing libs/contracts)', () => {
    expect(findDrift(files)).toEqual({ changed: [], missing: [], stale: [] });
  });

  it('are deterministic', () => {
    expect(generateSchemaDocs()).toEqual(files);
  });

  it('have a full envelope schema per event type and version', () => {
    for (const def of ALL_EVENTS) {
      const s = parsed(`docs/events/${def.type}.v${def.version}.json`) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(s.$schema).toBe(JSON_SCHEMA_DIALECT);
      expect(s.$id).toBe(`urn:fleetvisor:event:${def.type}:v${def.version}`);
      expect(s.title).toBe(`${def.type} v${def.version}`);
      expect(s.description).toBe(def.description);
      expect(s.properties.type).toEqual({ const: def.type, type: 'string' });
      expect(s.properties.version).toEqual({ const: def.version, type: 'integer' });
      const { description: _d, ...data } = s.properties.data;
      expect(data).toEqual(toJsonSchema(def.schema));
      expect(s.additionalProperties).toBe(false);
      expect(s.required).toEqual(['id', 'type', 'stream', 'version', 'data', 'metadata', 'occurredAt']);
      expect(s.examples).toHaveLength(1);
      expect(new RegExp(s.properties.stream.pattern).test(s.examples[0].stream)).toBe(true);
    }
    expect(files.has('docs/events/HostOnline.v1.json')).toBe(true);
    expect(parsed('docs/events/envelope.json').$schema).toBe(JSON_SCHEMA_DIALECT);
  });

  it('have request and reply schemas per command', () => {
    for (const c of ALL_COMMANDS) {
      expect(parsed(`docs/commands/${c.service}.${c.verb}.request.json`).title).toBe(`${c.service}.${c.verb} request`);
      expect(parsed(`docs/commands/${c.service}.${c.verb}.reply.json`).anyOf).toHaveLength(2);
    }
  });

  it('events.md indexes every type with its subject and schema link', () => {
    const md = files.get(EVENTS_MD)!;
    for (const def of ALL_EVENTS) {
      expect(md).toContain(`### ${def.type}`);
      expect(md).toContain(subjectPatternOf(def));
      expect(md).toContain(`(events/${def.type}.v${def.version}.json)`);
    }
    for (const section of ['## Subjects and their encoding', '## Subscribing from any language', '## Versioning and upcasting', 'FLEET_EVENTS', 'Nats-Msg-Id']) {
      expect(md).toContain(section);
    }
  });

  it('the docs on disk are where the generator writes them', () => {
    expect(readFileSync(path.join(REPO_ROOT, EVENTS_MD), 'utf8')).toBe(files.get(EVENTS_MD));
  });
});

describe('findDrift (what --check reports)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reports changed, missing and stale files', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fv-schemas-'));
    for (const [rel, content] of files) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), content);
    }
    expect(findDrift(files, dir)).toEqual({ changed: [], missing: [], stale: [] });
    writeFileSync(path.join(dir, 'docs/events/VersionChanged.v1.json'), '{}\n');
    rmSync(path.join(dir, 'docs/commands/worker-registry.pause.request.json'));
    writeFileSync(path.join(dir, 'docs/events/Removed.v1.json'), '{}\n');
    expect(findDrift(files, dir)).toEqual({
      changed: ['docs/events/VersionChanged.v1.json'],
      missing: ['docs/commands/worker-registry.pause.request.json'],
      stale: ['docs/events/Removed.v1.json'],
    });
  });
});
