// API-call statistics: how many calls each component makes to each chain service (venus node,
// venus-messager, venus-gateway), per method, per window. Stream: stats-<minerId>, or
// stats-<source> for calls not tied to one storage provider.
import { Type } from '@sinclair/typebox';
import { defineEvent } from '../define-event';
import { DateTime, StringEnum } from '../fields';

export const API_TARGETS = ['venus', 'venus-messager', 'venus-gateway', 'other'] as const;
export type ApiTarget = (typeof API_TARGETS)[number];

/** Filecoin ID address of a storage provider (f0... on mainnet, t0... on test networks). */
export const MINER_ID_PATTERN = '^[ft]0[0-9]{1,20}$';
/** Component names also name streams: the stream-id-safe characters only. */
export const COMPONENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$';
export const API_METHOD_PATTERN = '^[A-Za-z][A-Za-z0-9_.:/-]{0,199}$';

export const MAX_CALLS_PER_RECORD = 1000;

export const ApiCallStatSchema = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 200, pattern: API_METHOD_PATTERN, description: 'API method, e.g. Filecoin.ChainHead, MpoolPushMessage' }),
    count: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Calls in the window' }),
    errors: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Calls that failed (<= count)' })),
    p50Ms: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000, description: 'Median latency' })),
    p99Ms: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000, description: '99th percentile latency (>= p50Ms)' })),
  },
  { additionalProperties: false, description: 'Calls to one method in the window' },
);

export const ApiCallsRecorded = defineEvent({
  type: 'ApiCallsRecorded',
  area: 'stats',
  description:
    'API calls one component made to one chain service during a window, per method (one storage provider when minerId is set). ' +
    'Methods are unique within a record; errors <= count; p50Ms <= p99Ms.',
  streamPattern: 'stats-<minerId or source>',
  streamId: (d) => d.minerId ?? d.source,
  schema: Type.Object(
    {
      source: Type.String({ minLength: 1, maxLength: 100, pattern: COMPONENT_NAME_PATTERN, description: 'Component that made the calls, e.g. damocles-manager' }),
      target: StringEnum(API_TARGETS, 'Chain service called'),
      minerId: Type.Optional(Type.String({ minLength: 3, maxLength: 22, pattern: MINER_ID_PATTERN, description: 'Storage provider the calls were for' })),
      windowStart: DateTime({ description: 'Start of the window' }),
      windowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, description: 'Length of the window' }),
      calls: Type.Array(ApiCallStatSchema, { maxItems: MAX_CALLS_PER_RECORD, description: 'Per-method counts' }),
    },
    { additionalProperties: false },
  ),
  validate(d) {
    const seen = new Set<string>();
    for (const [i, c] of d.calls.entries()) {
      if (seen.has(c.method)) return `calls/${i}/method "${c.method}" appears twice`;
      seen.add(c.method);
      if (c.errors !== undefined && c.errors > c.count) return `calls/${i}/errors ${c.errors} is above count ${c.count}`;
      if (c.p50Ms !== undefined && c.p99Ms !== undefined && c.p50Ms > c.p99Ms) return `calls/${i}/p50Ms ${c.p50Ms} is above p99Ms ${c.p99Ms}`;
    }
    return undefined;
  },
});
