// stats-collector commands (fleet.cmd.stats-collector.<verb>): counted API calls pushed in by
// metering proxies and instrumented processes (push, scoped by source: ADR 0006), and the queries
// behind `fleetvisor stats …` and the gateway's charts.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { DateTime } from '../fields';
import { ApiCallsBatchSchema, ApiCallRecordSchema, CallRateBandSchema, COMPONENT_NAME_PATTERN } from '../events/stats';

const SERVICE = 'stats-collector';

/** `push` is scoped: fleet.cmd.stats-collector.push.<source>; the body's source must equal the subject's. */
export const STATS_PUSH_SCOPE = 'source';

export const StatsPush = defineCommand({
  service: SERVICE,
  verb: 'push',
  instance: STATS_PUSH_SCOPE,
  description:
    'One batch of counted calls from one source for one flush window (the ApiCallsRecorded data). A batch sent again ' +
    '(same source, window and part) is stored once (duplicate=true). Refused with invalid_request and a reason when malformed; nothing is stored then.',
  request: ApiCallsBatchSchema,
  result: Type.Object(
    {
      records: Type.Integer({ minimum: 0, description: 'Records stored' }),
      calls: Type.Integer({ minimum: 0, description: 'Calls counted' }),
      duplicate: Type.Boolean({ description: 'The batch was stored before: nothing was added' }),
    },
    { additionalProperties: false },
  ),
});

export const STATS_DIMENSIONS = ['caller', 'component', 'method'] as const;
export type StatsDimension = (typeof STATS_DIMENSIONS)[number];
const Dimension = (description: string) => Type.Union(STATS_DIMENSIONS.map((d) => Type.Literal(d)), { description });

const Filter = {
  caller: Type.Optional(ApiCallRecordSchema.properties.caller),
  component: Type.Optional(ApiCallRecordSchema.properties.component),
  method: Type.Optional(ApiCallRecordSchema.properties.method),
};

const Range = {
  from: DateTime({ description: 'Start of the range (inclusive)' }),
  to: DateTime({ description: 'End of the range (exclusive)' }),
};

const Totals = {
  calls: Type.Integer({ minimum: 0 }),
  errors: Type.Integer({ minimum: 0, description: 'JSON-RPC errors' }),
  transportErrors: Type.Integer({ minimum: 0 }),
  p50Ms: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: 'Median latency (upper bound of its histogram bucket); null without histograms' }),
  p99Ms: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description: '99th percentile latency (upper bound of its bucket; null above the last bound or without histograms)' }),
};

export const StatsSeriesSchema = Type.Object(
  {
    key: Type.String({ description: 'Value of the `by` dimension (or "all")' }),
    points: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 10_000, description: 'Calls per step, from `from`' }),
    ...Totals,
  },
  { additionalProperties: false },
);
export type StatsSeries = Static<typeof StatsSeriesSchema>;

export const StatsCalls = defineCommand({
  service: SERVICE,
  verb: 'calls',
  description: 'Calls over time, per caller, component or method, filtered; one series per key with totals, error counts and latency percentiles.',
  request: Type.Object(
    {
      ...Filter,
      ...Range,
      stepSeconds: Type.Integer({ minimum: 60, maximum: 86_400 * 31, description: 'Step of the series (a multiple of 60)' }),
      by: Type.Optional(Dimension('One series per value of this dimension (default: one series, "all")')),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'At most this many series, the largest first (default 20)' })),
    },
    { additionalProperties: false },
  ),
  result: Type.Object(
    {
      from: DateTime(),
      to: DateTime(),
      stepSeconds: Type.Integer({ minimum: 60 }),
      series: Type.Array(StatsSeriesSchema, { maxItems: 1000 }),
      others: Type.Integer({ minimum: 0, description: 'Calls of series left out by `limit`' }),
    },
    { additionalProperties: false },
  ),
});

export const StatsTopRowSchema = Type.Object({ key: Type.String(), ...Totals }, { additionalProperties: false });

export const StatsTop = defineCommand({
  service: SERVICE,
  verb: 'top',
  description: 'The busiest callers, components or methods in a range, with errors and latency percentiles.',
  request: Type.Object(
    { ...Filter, ...Range, by: Dimension('What to rank'), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Rows (default 10)' })) },
    { additionalProperties: false },
  ),
  result: Type.Object({ rows: Type.Array(StatsTopRowSchema, { maxItems: 1000 }), total: Type.Object(Totals, { additionalProperties: false }) }, { additionalProperties: false }),
});

export const StatsAnomalySchema = Type.Object(
  {
    caller: ApiCallRecordSchema.properties.caller,
    component: Type.String({ pattern: COMPONENT_NAME_PATTERN }),
    methods: Type.String(),
    direction: Type.Union([Type.Literal('above'), Type.Literal('below')]),
    band: CallRateBandSchema,
    observedPerMin: Type.Number({ minimum: 0 }),
    outsideSince: DateTime(),
    detectedAt: DateTime(),
    recoveredAt: Type.Union([DateTime(), Type.Null()]),
    recoveredPerMin: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type StatsAnomaly = Static<typeof StatsAnomalySchema>;

export const StatsAnomalies = defineCommand({
  service: SERVICE,
  verb: 'anomalies',
  description: 'CallRateAnomaly events (with their recovery, if any), newest first.',
  request: Type.Object(
    { caller: Type.Optional(ApiCallRecordSchema.properties.caller), since: Type.Optional(DateTime()), open: Type.Optional(Type.Boolean({ description: 'Only those not recovered' })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
    { additionalProperties: false },
  ),
  result: Type.Object({ anomalies: Type.Array(StatsAnomalySchema, { maxItems: 1000 }) }, { additionalProperties: false }),
});

export const StatsBandSchema = Type.Object(
  {
    caller: ApiCallRecordSchema.properties.caller,
    component: Type.String({ pattern: COMPONENT_NAME_PATTERN }),
    band: Type.Union([CallRateBandSchema, Type.Null()], { description: 'The band the watcher judges the rate against now (an open anomaly keeps the band it left); null: not enough history yet' }),
    from: DateTime({ description: 'Minute of the first rate' }),
    rates: Type.Array(Type.Number({ minimum: 0 }), { maxItems: 1440, description: 'Smoothed rate of each minute from `from`, calls per minute; the newest minutes the watcher does not judge yet are left out' }),
    outside: Type.Union([Type.Literal('above'), Type.Literal('below'), Type.Null()], { description: 'Side of the band the newest rate is on (null: inside, or no band)' }),
  },
  { additionalProperties: false },
);
export type StatsBand = Static<typeof StatsBandSchema>;

export const StatsBands = defineCommand({
  service: SERVICE,
  verb: 'bands',
  description:
    "The steady band of each caller × component over the watched (message-sending) calls, with the smoothed per-minute rates it is judged on: what the dashboard draws around a caller's curve.",
  request: Type.Object(
    {
      caller: Type.Optional(ApiCallRecordSchema.properties.caller),
      component: Type.Optional(Type.String({ pattern: COMPONENT_NAME_PATTERN })),
      minutes: Type.Optional(Type.Integer({ minimum: 10, maximum: 1440, description: 'Minutes of rates to return (default 360)' })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: 'Callers × components at most (default 20), busiest first' })),
    },
    { additionalProperties: false },
  ),
  result: Type.Object(
    {
      methods: Type.String({ description: 'Which calls the band watches' }),
      smoothMinutes: Type.Integer({ minimum: 1, description: 'Minutes averaged into one rate' }),
      bands: Type.Array(StatsBandSchema, { maxItems: 50 }),
    },
    { additionalProperties: false },
  ),
});
