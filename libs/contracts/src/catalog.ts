// The catalog knows every event type: it validates envelopes and data, and upcasts data written
// at an older schema version to the current one. Validators are compiled once (TypeBox).
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { EventEnvelopeSchema, type EventEnvelope } from './envelope';
import type { EventDefinition } from './define-event';
import { parseStreamName } from './subjects';

if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));
}
// `format: 'uuid'` (e.g. WorkerReport.bootId): any RFC 9562 UUID, lowercase or uppercase hex.
if (!FormatRegistry.Has('uuid')) {
  FormatRegistry.Set('uuid', (v) => /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(v));
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Thrown where invalid input must stop an operation (append, publish, command). */
export class ContractViolationError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ContractViolationError';
  }
}

/**
 * The most useful error for a person: for a union, the error of the variant that got furthest
 * (e.g. `/previous/providerMin` rather than "Expected union value" at `/previous`), and for a
 * union of constants, the list of allowed values.
 */
function explain(err: ValueError): ValueError {
  if (err.type !== ValueErrorType.Union) return err;
  const variants = (err.schema as { anyOf?: { const?: unknown }[] }).anyOf ?? [];
  if (variants.length > 0 && variants.every((s) => s.const !== undefined)) {
    return { ...err, message: `Expected one of ${variants.map((s) => JSON.stringify(s.const)).join(', ')}` };
  }
  let best: ValueError = err;
  for (const it of err.errors) {
    const first = it.First();
    if (first && first.path.length > best.path.length) best = first;
  }
  return best === err ? err : explain(best);
}

/** First validation error of `value`, as `<what> at <path>: <message>`. */
export function describeFirstError(check: TypeCheck<TSchema>, value: unknown, what: string): string {
  const first = check.Errors(value).First();
  if (!first) return `${what} is invalid`;
  const err = explain(first);
  const at = err.path === '' ? '' : ` at ${err.path}`;
  return `${what}${at}: ${err.message}`;
}

interface Entry {
  def: EventDefinition;
  check: TypeCheck<TSchema>;
  previous: Map<number, TypeCheck<TSchema>>;
}

export class EventCatalog {
  private readonly entries = new Map<string, Entry>();
  private readonly envelopeCheck = TypeCompiler.Compile(EventEnvelopeSchema);

  constructor(defs: readonly EventDefinition[]) {
    for (const def of defs) {
      if (this.entries.has(def.type)) throw new Error(`event type ${def.type} defined twice`);
      const previous = new Map<number, TypeCheck<TSchema>>();
      for (const [v, schema] of Object.entries(def.previousSchemas ?? {})) previous.set(Number(v), TypeCompiler.Compile(schema));
      this.entries.set(def.type, { def, check: TypeCompiler.Compile(def.schema), previous });
    }
  }

  get types(): string[] {
    return [...this.entries.keys()];
  }

  definitions(): EventDefinition[] {
    return [...this.entries.values()].map((e) => e.def);
  }

  get(type: string): EventDefinition | undefined {
    return this.entries.get(type)?.def;
  }

  /**
   * Validates an envelope from outside (the bus, the log, a client): shape, known type, stream in
   * the type's area, data valid after upcasting, the type's own rules, and (where the type derives
   * its stream from its data) the right stream. Returns the event at the current schema version.
   */
  parse(raw: unknown): ParseResult<EventEnvelope> {
    if (!this.envelopeCheck.Check(raw)) return { ok: false, reason: describeFirstError(this.envelopeCheck, raw, 'envelope') };
    const env = raw as EventEnvelope;
    const entry = this.entries.get(env.type);
    if (!entry) return { ok: false, reason: `unknown event type "${env.type}"` };
    const { def, check } = entry;
    let area: string;
    try {
      area = parseStreamName(env.stream).area;
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    if (area !== def.area) return { ok: false, reason: `${def.type} belongs in a ${def.area}-* stream, not "${env.stream}"` };
    if (env.version > def.version) {
      return { ok: false, reason: `${def.type} version ${env.version} is newer than this build knows (${def.version})` };
    }
    const old = entry.previous.get(env.version);
    if (old && !old.Check(env.data)) {
      return { ok: false, reason: describeFirstError(old, env.data, `${def.type} v${env.version} data`) };
    }
    let data = env.data;
    try {
      for (let v = env.version; v < def.version; v++) data = def.upcasters[v]!(data, env);
    } catch (e) {
      return { ok: false, reason: `${def.type} upcast from version ${env.version} failed: ${(e as Error).message}` };
    }
    if (!check.Check(data)) return { ok: false, reason: describeFirstError(check, data, `${def.type} data`) };
    const rule = def.validate?.(data);
    if (rule !== undefined) return { ok: false, reason: `${def.type} data: ${rule}` };
    if (def.streamId) {
      const expected = `${def.area}-${def.streamId(data)}`;
      if (expected !== env.stream) return { ok: false, reason: `${def.type} for this data belongs in stream "${expected}", not "${env.stream}"` };
    }
    return { ok: true, value: env.version === def.version ? env : { ...env, version: def.version, data } };
  }

  /**
   * For events read back from the log. The append path validated each of them with `parse`
   * before storing it, so an event at its type's current version is returned as stored: checking
   * it again was a quarter of the CPU of catch-up reads and rebuilds. An older version is upcast and
   * fully validated as `parse` does; an unknown type or a version newer than this build is refused.
   * A schema change always bumps the version (docs/events.md), so "current version" means "valid".
   */
  fromLog(env: EventEnvelope): ParseResult<EventEnvelope> {
    const entry = this.entries.get(env.type);
    if (!entry) return { ok: false, reason: `unknown event type "${env.type}"` };
    if (env.version === entry.def.version) return { ok: true, value: env };
    return this.parse(env);
  }

  /** Like parse, but throws ContractViolationError. */
  assert(raw: unknown): EventEnvelope {
    const r = this.parse(raw);
    if (!r.ok) throw new ContractViolationError(r.reason);
    return r.value;
  }
}
