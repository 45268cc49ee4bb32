// API-call statistics: how many calls each caller (a storage provider's component: venus-sealer,
// venus-cluster, venus-wallet, a Lava consumer, …) makes to each component (a chain service: venus
// node, venus-messager, venus-gateway, a lavap provider), per method, per window.
//
// Version 2 (the stats-collector's): one event per source per flush window, whatever the number of
// calls: records keyed by caller × component × method with calls, errors and a fixed latency
// histogram. Stream: stats-<source>. The event id is derived from (source, windowStart,
// windowSeconds, part) by the collector, so a batch delivered twice is appended once.
// Version 1 (written before the collector existed) had one component and no caller per record;
// it is upcast (caller = the storage provider or the source; p50/p99 cannot become buckets and are
// dropped).
import { Type, type Static } from '@sinclair/typebox';
import { defineEvent } from '../define-event';
import { DateTime, StringEnum } from '../fields';

export const API_TARGETS = ['venus', 'venus-messager', 'venus-gateway', 'other'] as const;
export type ApiTarget = (typeof API_TARGETS)[number];

/** Filecoin ID address of a storage provider (f0... on mainnet, t0... on test networks). */
export const MINER_ID_PATTERN = '^[ft]0[0-9]{1,20}$';
/** Component names also name streams: the stream-id-safe characters only. */
export const COMPONENT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}$';
export const API_METHOD_PATTERN = '^[A-Za-z][A-Za-z0-9_.:/-]{0,199}$';
/** Callers come from token claims or headers; they name anomaly streams, so the stream-id-safe characters only. */
export const API_CALLER_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$';

export const MAX_CALLS_PER_RECORD = 1000;
/** Records per ApiCallsRecorded (v2): keeps an event near 250 KiB at most, half the stream's 512 KiB message limit. */
export const MAX_RECORDS_PER_BATCH = 1000;

/**
 * Upper bounds (ms, inclusive) of the latency histogram's buckets; one more bucket counts the rest
 * (+Inf). Fixed for every source so that histograms add up across sources, windows and rollups.
 */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000]);
export const LATENCY_BUCKET_COUNT = LATENCY_BUCKETS_MS.length + 1;

const Count = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

export const ApiCallStatSchema = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 200, pattern: API_METHOD_PATTERN, description: 'API method, e.g. Filecoin.ChainHead, MpoolPushMessage' }),
    count: Count('Calls in the window'),
    errors: Type.Optional(Count('Calls that failed (<= count)')),
    p50Ms: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000, description: 'Median latency' })),
    p99Ms: Type.Optional(Type.Number({ minimum: 0, maximum: 86_400_000, description: '99th percentile latency (>= p50Ms)' })),
  },
  { additionalProperties: false, description: 'Calls to one method in the window' },
);

export const ApiCallRecordSchema = Type.Object(
  {
    caller: Type.String({ minLength: 1, maxLength: 128, pattern: API_CALLER_PATTERN, description: 'Who made the calls: a token claim or header value, e.g. t01000-sealer' }),
    component: Type.String({ minLength: 1, maxLength: 100, pattern: COMPONENT_NAME_PATTERN, description: 'The service called, e.g. venus, venus-messager, lavap-provider-1' }),
    method: Type.String({ minLength: 1, maxLength: 200, pattern: API_METHOD_PATTERN, description: 'API method, e.g. Filecoin.ChainHead' }),
    calls: Count('Calls in the window'),
    errors: Count('Calls answered with a JSON-RPC error (or a failed status)'),
    transportErrors: Type.Optional(Count('Calls that got no answer (connection refused, reset, timeout)')),
    latency: Type.Optional(
      Type.Array(Count('Calls in this bucket'), {
        minItems: LATENCY_BUCKET_COUNT,
        maxItems: LATENCY_BUCKET_COUNT,
        description: `Latency histogram: calls per bucket, upper bounds ${LATENCY_BUCKETS_MS.join(', ')} ms and +Inf; sums to at most calls`,
      }),
    ),
  },
  { additionalProperties: false, description: 'Calls of one caller to one method of one component in the window' },
);
export type ApiCallRecord = Static<typeof ApiCallRecordSchema>;

export const ApiCallsBatchSchema = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 100, pattern: COMPONENT_NAME_PATTERN, description: 'What counted the calls: a metering proxy, an instrumented process, a scrape target' }),
    windowStart: DateTime({ description: 'Start of the flush window' }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, description: 'Length of the flush window' }),
    part: Type.Integer({ minimum: 0, maximum: 9_999, description: 'Index of this batch within the window, when one window needed several (0 otherwise)' }),
    records: Type.Array(ApiCallRecordSchema, { maxItems: MAX_RECORDS_PER_BATCH, description: 'One per caller × component × method' }),
  },
  { additionalProperties: false },
);
export type ApiCallsBatch = Static<typeof ApiCallsBatchSchema>;

/** Rules of a batch beyond JSON Schema (also used by the collector's intake): a reason naming the record, or undefined. */
export function validateApiCallsBatch(d: ApiCallsBatch): string | undefined {
  const seen = new Set<string>();
  for (const [i, r] of d.records.entries()) {
    const key = `${r.caller}\u0000${r.component}\u0000${r.method}`;
    if (seen.has(key)) return `records/${i} repeats caller "${r.caller}", component "${r.component}", method "${r.method}"`;
    seen.add(key);
    const failed = r.errors + (r.transportErrors ?? 0);
    if (failed > r.calls) return `records/${i}: errors + transportErrors ${failed} is above calls ${r.calls}`;
    if (r.latency) {
      let n = 0;
      for (const c of r.latency) n += c;
      if (n > r.calls) return `records/${i}/latency counts ${n} calls, above calls ${r.calls}`;
    }
  }
  return undefined;
}

const ApiCallsRecordedV1 = Type.Object(
  {
    source: Type.String({ minLength: 1, maxLength: 100, pattern: COMPONENT_NAME_PATTERN, description: 'Component that made the calls, e.g. damocles-manager' }),
    target: StringEnum(API_TARGETS, 'Chain service called'),
    minerId: Type.Optional(Type.String({ minLength: 3, maxLength: 22, pattern: MINER_ID_PATTERN, description: 'Storage provider the calls were for' })),
    windowStart: DateTime({ description: 'Start of the window' }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 86_400, description: 'Length of the window' }),
    calls: Type.Array(ApiCallStatSchema, { maxItems: MAX_CALLS_PER_RECORD, description: 'Per-method counts' }),
  },
  { additionalProperties: false },
);
type ApiCallsRecordedV1Data = Static<typeof ApiCallsRecordedV1>;

export const ApiCallsRecorded = defineEvent({
  type: 'ApiCallsRecorded',
  area: 'stats',
  version: 2,
  description:
    'API calls counted by one source during one flush window, per caller × component × method: calls, errors, latency histogram. ' +
    'Records are unique by (caller, component, method); errors + transportErrors <= calls; the histogram sums to at most calls.',
  streamPattern: 'stats-<source>',
  streamId: (d) => d.source,
  schema: ApiCallsBatchSchema,
  previousSchemas: { 1: ApiCallsRecordedV1 },
  upcasters: {
    // v1 lived in stats-<minerId or source>: that stream id becomes the source, so the upcast event
    // stays in its stream; the calls were the source's own, for the storage provider when named.
    1: (raw) => {
      const d = raw as ApiCallsRecordedV1Data;
      return {
        source: d.minerId ?? d.source,
        windowStart: d.windowStart,
        windowSeconds: d.windowSeconds,
        part: 0,
        records: d.calls.map((c) => ({ caller: d.minerId ? `${d.minerId}-${d.source}`.slice(0, 128) : d.source, component: d.target, method: c.method, calls: c.count, errors: c.errors ?? 0 })),
      } satisfies ApiCallsBatch;
    },
  },
  validate: validateApiCallsBatch,
});

/** The steady band of a caller's message-sending calls, learned from its own trailing history. */
export const CallRateBandSchema = Type.Object(
  {
    low: Type.Number({ minimum: 0, description: 'Lowest normal rate, calls per minute' }),
    high: Type.Number({ minimum: 0, description: 'Highest normal rate, calls per minute (>= low)' }),
    median: Type.Number({ minimum: 0, description: 'Median rate of the history, calls per minute' }),
    historyMinutes: Type.Integer({ minimum: 1, maximum: 10_080_000, description: 'Minutes of history the band was learned from' }),
  },
  { additionalProperties: false },
);

const AnomalyFields = {
  caller: ApiCallRecordSchema.properties.caller,
  component: ApiCallRecordSchema.properties.component,
  methods: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9-]{0,63}$', description: 'Which calls are watched, e.g. message-sending' }),
  band: CallRateBandSchema,
  observedPerMin: Type.Number({ minimum: 0, description: 'Observed rate over the detection window, calls per minute' }),
};

export const CallRateAnomaly = defineEvent({
  type: 'CallRateAnomaly',
  area: 'stats',
  description: "A caller's rate of watched calls left its steady band for longer than the configured time (the rate and the band are given).",
  streamPattern: 'stats-<caller>',
  streamId: (d) => d.caller,
  schema: Type.Object(
    {
      ...AnomalyFields,
      direction: StringEnum(['above', 'below'] as const, 'Which side of the band'),
      outsideSince: DateTime({ description: 'First minute outside the band' }),
    },
    { additionalProperties: false },
  ),
  validate: (d) => (d.band.low > d.band.high ? `band.low ${d.band.low} is above band.high ${d.band.high}` : undefined),
});

export const CallRateRecovered = defineEvent({
  type: 'CallRateRecovered',
  area: 'stats',
  description: "A caller's rate of watched calls is back inside its steady band after a CallRateAnomaly.",
  streamPattern: 'stats-<caller>',
  streamId: (d) => d.caller,
  schema: Type.Object(
    {
      ...AnomalyFields,
      anomalyMs: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'How long the rate was outside its band' }),
    },
    { additionalProperties: false },
  ),
  validate: (d) => (d.band.low > d.band.high ? `band.low ${d.band.low} is above band.high ${d.band.high}` : undefined),
});
