// The catalog knows every event type: it validates envelopes and data, and upcasts data written
// at an older schema version to the current one. Validators are compiled once (TypeBox).
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { EventEnvelopeSchema, type EventEnvelope } from './envelope';
import type { EventDefinition } from './define-event';
import { parseStreamName } from './subjects';

if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v)));
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Thrown where invalid input must stop an operation (append, publish, command). */
export class ContractViolationError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ContractViolationError';
  }
}

function firstError(check: TypeCheck<TSchema>, value: unknown, what: string): string {
  const err = check.Errors(value).First();
  if (!err) return `${what} is invalid`;
  const at = err.path === '' ? '' : ` at ${err.path}`;
  return `${what}${at}: ${err.message}`;
}

interface Entry {
  def: EventDefinition;
  check: TypeCheck<TSchema>;
}

export class EventCatalog {
  private readonly entries = new Map<string, Entry>();
  private readonly envelopeCheck = TypeCompiler.Compile(EventEnvelopeSchema);

  constructor(defs: readonly EventDefinition[]) {
    for (const def of defs) {
      if (this.entries.has(def.type)) throw new Error(`event type ${def.type} defined twice`);
      this.entries.set(def.type, { def, check: TypeCompiler.Compile(def.schema) });
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
   * the type's area, data valid after upcasting. Returns the event at the current schema version.
   */
  parse(raw: unknown): ParseResult<EventEnvelope> {
    if (!this.envelopeCheck.Check(raw)) return { ok: false, reason: firstError(this.envelopeCheck, raw, 'envelope') };
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
    let data = env.data;
    try {
      for (let v = env.version; v < def.version; v++) data = def.upcasters[v]!(data);
    } catch (e) {
      return { ok: false, reason: `${def.type} upcast from version ${env.version} failed: ${(e as Error).message}` };
    }
    if (!check.Check(data)) return { ok: false, reason: firstError(check, data, `${def.type} data`) };
    return { ok: true, value: env.version === def.version ? env : { ...env, version: def.version, data } };
  }

  /** Like parse, but throws ContractViolationError. */
  assert(raw: unknown): EventEnvelope {
    const r = this.parse(raw);
    if (!r.ok) throw new ContractViolationError(r.reason);
    return r.value;
  }
}
