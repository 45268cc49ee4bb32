// How an event type is declared: name, stream area, schema version, data schema, upcasters.
import type { Static, TSchema } from '@sinclair/typebox';
import type { EventEnvelope } from './envelope';

export type StreamArea = 'chain' | 'service' | 'worker' | 'host' | 'stats' | 'system' | 'miner';
// 'miner': a Filecoin storage provider's proving history (miner-<minerId>, the proving watch).
export const STREAM_AREAS: readonly StreamArea[] = ['chain', 'service', 'worker', 'host', 'stats', 'system', 'miner'];

/** Event type names: what the envelope's `type` accepts (PascalCase, 2..100 chars). */
export const EVENT_TYPE_PATTERN = '^[A-Z][A-Za-z0-9]{1,99}$';

/**
 * Turns data written at schema version `n` into data of version `n + 1`. It receives the whole
 * envelope as read (still at version `n`) for facts the old data lacked but the envelope holds,
 * such as `occurredAt`. It must be pure, and total: every valid version-n event must give valid
 * version-n+1 data.
 */
export type Upcaster = (data: unknown, envelope: Readonly<EventEnvelope>) => unknown;

export interface EventDefinition<TType extends string = string, TData extends TSchema = TSchema> {
  readonly type: TType;
  readonly area: StreamArea;
  /** Current schema version of `data`. */
  readonly version: number;
  readonly schema: TData;
  readonly description: string;
  /** `upcasters[n]` upgrades version n to n + 1, for every n < version. */
  readonly upcasters: Readonly<Record<number, Upcaster>>;
  /**
   * The stream id this event belongs in, derived from its (current-version) data. When present the
   * catalog rejects an envelope whose stream is not `<area>-<streamId(data)>`.
   */
  streamId?(data: Static<TData>): string;
  /** Stream pattern for people and docs, e.g. `chain-<chainId>`. */
  readonly streamPattern?: string;
  /**
   * Rules JSON Schema cannot express (e.g. min <= target). Returns a reason naming the field, or
   * undefined when the data is fine. Runs after the schema check, on current-version data.
   */
  validate?(data: Static<TData>): string | undefined;
  /**
   * Data schemas of earlier versions, by version. Old envelopes are checked against them before
   * upcasting, and the docs keep publishing them (the bus carries events as they were written).
   */
  readonly previousSchemas?: Readonly<Record<number, TSchema>>;
}

export function defineEvent<TType extends string, TData extends TSchema>(def: {
  type: TType;
  area: StreamArea;
  version?: number;
  schema: TData;
  description: string;
  upcasters?: Record<number, Upcaster>;
  streamId?: (data: Static<TData>) => string;
  streamPattern?: string;
  validate?: (data: Static<TData>) => string | undefined;
  previousSchemas?: Record<number, TSchema>;
}): EventDefinition<TType, TData> {
  const version = def.version ?? 1;
  if (!new RegExp(EVENT_TYPE_PATTERN).test(def.type)) {
    throw new Error(`event type "${def.type}" must match ${EVENT_TYPE_PATTERN}`);
  }
  if (!Number.isInteger(version) || version < 1) throw new Error(`event ${def.type}: version must be an integer >= 1`);
  if (!STREAM_AREAS.includes(def.area)) throw new Error(`event ${def.type}: unknown area "${def.area}"`);
  const upcasters = def.upcasters ?? {};
  for (let v = 1; v < version; v++) {
    if (typeof upcasters[v] !== 'function') {
      throw new Error(`event ${def.type}: version ${version} needs an upcaster from ${v} to ${v + 1}`);
    }
  }
  for (const key of Object.keys(def.previousSchemas ?? {})) {
    const v = Number(key);
    if (!Number.isInteger(v) || v < 1 || v >= version) {
      throw new Error(`event ${def.type}: previousSchemas[${key}] is not an earlier version (current is ${version})`);
    }
  }
  if (def.streamPattern !== undefined && !def.streamPattern.startsWith(`${def.area}-`)) {
    throw new Error(`event ${def.type}: streamPattern "${def.streamPattern}" must start with "${def.area}-"`);
  }
  return Object.freeze({
    ...def,
    version,
    upcasters: Object.freeze({ ...upcasters }),
    ...(def.previousSchemas ? { previousSchemas: Object.freeze({ ...def.previousSchemas }) } : {}),
  });
}

/** True for values built by defineEvent (used to collect definitions from modules). */
export function isEventDefinition(value: unknown): value is EventDefinition {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<EventDefinition>;
  return (
    typeof v.type === 'string' &&
    typeof v.version === 'number' &&
    typeof v.description === 'string' &&
    typeof v.schema === 'object' &&
    typeof v.upcasters === 'object' &&
    STREAM_AREAS.includes(v.area as StreamArea)
  );
}

/** The stream name an event of this type with this data belongs in (needs `streamId`). */
export function streamOf<D extends EventDefinition>(def: D, data: EventData<D>): string {
  if (!def.streamId) throw new Error(`event ${def.type} does not derive its stream from its data; pass the stream id`);
  return `${def.area}-${def.streamId(data)}`;
}

export type EventData<D extends EventDefinition> = Static<D['schema']>;
export type EventOf<D extends EventDefinition> = EventEnvelope<D['type'], EventData<D>>;
