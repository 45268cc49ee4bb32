// Rules every event (and command) schema follows; a new type that breaks one fails here.
import { describe, expect, it } from 'vitest';
import { ALL_COMMANDS } from '../command-defs';
import { isEventDefinition } from '../define-event';
import { STREAM_NAME_PATTERN } from '../envelope';
import { toJsonSchema, type JsonSchema } from '../json-schema';
import * as chain from './chain';
import { exampleEnvelope, EVENT_EXAMPLES, PREVIOUS_EVENT_EXAMPLES } from './examples';
import * as host from './host';
import { ALL_EVENTS, EVENT_DEFINITIONS, fleetEvents } from './index';
import * as proving from './proving';
import * as rollout from './rollout';
import * as service from './service';
import * as stats from './stats';
import * as worker from './worker';

/** Calls `visit` on every sub-schema with its JSON path. */
function walk(schema: JsonSchema, visit: (s: JsonSchema, path: string) => void, path = ''): void {
  visit(schema, path);
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>)) walk(v, visit, `${path}/${k}`);
  for (const [k, v] of Object.entries((schema.patternProperties ?? {}) as Record<string, JsonSchema>)) walk(v, visit, `${path}/{${k}}`);
  if (schema.items) walk(schema.items as JsonSchema, visit, `${path}[]`);
  for (const [i, v] of ((schema.anyOf ?? []) as JsonSchema[]).entries()) walk(v, visit, `${path}|${i}`);
}

/** Property names that would hold a secret. None may exist in any event or command (invariant 5). */
const SECRET_NAME = /pass(word|phrase|wd)|secret|token|mnemonic|private_?key|api_?key|credential|seed_?phrase|keyring/i;

function propertyNames(schema: JsonSchema): string[] {
  const names: string[] = [];
  walk(schema, (s) => names.push(...Object.keys((s.properties ?? {}) as object)));
  return names;
}

const currentSchemas = ALL_EVENTS.map((d) => [d.type, toJsonSchema(d.schema)] as const);

describe('event registry', () => {
  it('registers every event definition exported by the area modules, once', () => {
    const exported = [chain, host, rollout, service, stats, worker, proving].flatMap((m) => Object.values(m).filter(isEventDefinition));
    expect(new Set(ALL_EVENTS)).toEqual(new Set(exported));
    expect(new Set(ALL_EVENTS.map((d) => d.type)).size).toBe(ALL_EVENTS.length);
    expect(fleetEvents.types.sort()).toEqual(Object.keys(EVENT_DEFINITIONS).sort());
  });

  it('has one example per type, and each example is valid and in its stream', () => {
    expect(Object.keys(EVENT_EXAMPLES).sort()).toEqual(Object.keys(EVENT_DEFINITIONS).sort());
    for (const type of Object.keys(EVENT_EXAMPLES) as (keyof typeof EVENT_EXAMPLES)[]) {
      const env = exampleEnvelope(type);
      expect(fleetEvents.parse(env), type).toEqual({ ok: true, value: env });
      expect(env.stream).toMatch(new RegExp(STREAM_NAME_PATTERN));
    }
  });

  it('examples of earlier versions are valid and upcast', () => {
    for (const [type, byVersion] of Object.entries(PREVIOUS_EVENT_EXAMPLES)) {
      for (const v of Object.keys(byVersion)) {
        const r = fleetEvents.parse(exampleEnvelope(type as keyof typeof EVENT_EXAMPLES, Number(v)));
        expect(r.ok && r.value.version, `${type} v${v}`).toBe(fleetEvents.get(type)!.version);
      }
    }
  });

  it('every definition has a description and a stream pattern in its area', () => {
    for (const def of ALL_EVENTS) {
      expect(def.description.length, def.type).toBeGreaterThan(10);
      expect(def.streamPattern, def.type).toMatch(new RegExp(`^${def.area}-<`));
    }
  });

  it('every new area types derives its stream from its data (host events stay free: benches use their own streams)', () => {
    for (const def of ALL_EVENTS.filter((d) => d.area !== 'host')) expect(def.streamId, def.type).toBeTypeOf('function');
  });
});

describe('schema conventions (current versions)', () => {
  it.each(currentSchemas)('%s: every object refuses unknown properties', (_type, schema) => {
    walk(schema, (s, path) => {
      if (s.type === 'object') expect(s.additionalProperties, path || '/').toBe(false);
    });
  });

  it.each(currentSchemas)('%s: every string has a length limit, every array and map a size limit', (_type, schema) => {
    walk(schema, (s, path) => {
      if (s.type === 'string' && s.const === undefined) expect(s.maxLength, `${path} maxLength`).toBeTypeOf('number');
      if (s.type === 'array') expect(s.maxItems, `${path} maxItems`).toBeTypeOf('number');
      if (s.type === 'object' && s.patternProperties) expect(s.maxProperties, `${path} maxProperties`).toBeTypeOf('number');
    });
  });

  it.each(currentSchemas)('%s: counts, pids, heights, durations and indexes are integers', (_type, schema) => {
    walk(schema, (s, path) => {
      if (/(count|pid|height|Ms|index|attempt|crashes|threads|code|windowSeconds)$/.test(path) && s.type !== undefined) {
        if (!/p(50|99)Ms$/.test(path)) expect(s.type, path).toBe('integer');
      }
    });
  });
});

describe('no secrets', () => {
  it('the secret-name rule catches what it should', () => {
    for (const n of ['password', 'keyringPassword', 'passphrase', 'secret', 'clientSecret', 'token', 'authToken', 'mnemonic', 'privateKey', 'private_key', 'apiKey']) {
      expect(n).toMatch(SECRET_NAME);
    }
    for (const n of ['host', 'reason', 'version', 'actor', 'passed', 'binaryPath', 'keyName']) expect(n).not.toMatch(SECRET_NAME);
  });

  it('no event schema, current or earlier, has a property named like a secret', () => {
    for (const def of ALL_EVENTS) {
      const schemas = [def.schema, ...Object.values(def.previousSchemas ?? {})];
      for (const s of schemas) expect(propertyNames(toJsonSchema(s)).filter((n) => SECRET_NAME.test(n)), def.type).toEqual([]);
    }
  });

  it('no command request or result has a property named like a secret', () => {
    for (const c of ALL_COMMANDS) {
      const names = [...propertyNames(toJsonSchema(c.request)), ...propertyNames(toJsonSchema(c.result))];
      expect(names.filter((n) => SECRET_NAME.test(n)), `${c.service}.${c.verb}`).toEqual([]);
    }
  });
});
