// How an event type is declared: name, stream area, schema version, data schema, upcasters.
import type { Static, TSchema } from '@sinclair/typebox';
import type { EventEnvelope } from './envelope';

export type StreamArea = 'chain' | 'service' | 'worker' | 'host' | 'stats' | 'system';
export const STREAM_AREAS: readonly StreamArea[] = ['chain', 'service', 'worker', 'host', 'stats', 'system'];

/** Turns data written at schema version `n` into data of version `n + 1`. */
export type Upcaster = (data: unknown) => unknown;

export interface EventDefinition<TType extends string = string, TData extends TSchema = TSchema> {
  readonly type: TType;
  readonly area: StreamArea;
  /** Current schema version of `data`. */
  readonly version: number;
  readonly schema: TData;
  readonly description: string;
  /** `upcasters[n]` upgrades version n to n + 1, for every n < version. */
  readonly upcasters: Readonly<Record<number, Upcaster>>;
}

export function defineEvent<TType extends string, TData extends TSchema>(def: {
  type: TType;
  area: StreamArea;
  version?: number;
  schema: TData;
  description: string;
  upcasters?: Record<number, Upcaster>;
}): EventDefinition<TType, TData> {
  const version = def.version ?? 1;
  const upcasters = def.upcasters ?? {};
  for (let v = 1; v < version; v++) {
    if (typeof upcasters[v] !== 'function') {
      throw new Error(`event ${def.type}: version ${version} needs an upcaster from ${v} to ${v + 1}`);
    }
  }
  return Object.freeze({ ...def, version, upcasters: Object.freeze({ ...upcasters }) });
}

export type EventData<D extends EventDefinition> = Static<D['schema']>;
export type EventOf<D extends EventDefinition> = EventEnvelope<D['type'], EventData<D>>;
