// Chains (the chain-watcher's status; the version history from the chain's stream in the log, as
// `chain versions` reads it) and call statistics (every stats-collector query the CLI's `stats`
// commands use: calls, top, anomalies).
import { Type, type Static } from '@sinclair/typebox';
import { ChainId, ChainProvingMiner, ChainProvingSectors, ChainStatus, DateTime, HostName, StatsAnomalies, StatsBands, StatsCalls, StatsTop, streamName, VersionChanged } from '@fleetvisor/contracts';
import { Problem } from '../http/problem';
import { route, type RouteDef } from '../http/route';

const VersionRowSchema = Type.Object(
  {
    ...VersionChanged.schema.properties,
    occurredAt: DateTime({ description: 'When the chain-watcher recorded it' }),
    eventId: Type.String({ description: 'The VersionChanged event' }),
    host: Type.Optional(HostName({ description: 'Host of the chain-watcher that recorded it' })),
  },
  { additionalProperties: false },
);

const DAY_MS = 86_400_000;

/** from/to default to the last 24 hours; a range given as one bound is refused naming the other. */
export function rangeOf(q: { from?: string | undefined; to?: string | undefined }, now: number): { from: string; to: string } {
  const to = q.to ?? new Date(now).toISOString();
  const from = q.from ?? new Date(Date.parse(to) - DAY_MS).toISOString();
  if (Date.parse(from) >= Date.parse(to)) throw new Problem(400, `query.from (${from}) must be before query.to (${to})`, { field: 'query.from' });
  return { from, to };
}

const optionalRange = { from: Type.Optional(StatsCalls.request.properties.from), to: Type.Optional(StatsCalls.request.properties.to) };
const filter = {
  caller: StatsCalls.request.properties.caller,
  component: StatsCalls.request.properties.component,
  method: StatsCalls.request.properties.method,
};

function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export const chainStatsRoutes: RouteDef[] = [
  route({
    method: 'GET',
    path: '/api/v1/chains',
    operationId: 'listChains',
    tag: 'chains',
    role: 'read',
    summary: 'Every watched chain as its leader sees it: height, version, endpoint, lag (`chain status`)',
    query: ChainStatus.request,
    response: ChainStatus.result,
    handle: ({ query }, { bus }) => bus.ask(ChainStatus, query),
  }),
  route({
    method: 'GET',
    path: '/api/v1/chains/:chainId/versions',
    operationId: 'getChainVersions',
    tag: 'chains',
    role: 'read',
    summary: 'Protocol version history of a chain, oldest first (`chain versions`, read from the log)',
    params: Type.Object({ chainId: ChainId() }, { additionalProperties: false }),
    response: Type.Object({ chainId: ChainId(), versions: Type.Array(VersionRowSchema, { maxItems: 100_000 }) }, { additionalProperties: false }),
    async handle({ params }, { store }) {
      const { events } = await store.readStream(streamName('chain', params.chainId));
      if (events.length === 0) throw new Problem(404, `chain ${params.chainId} is unknown: nothing recorded for it in the log`, { code: 'not_found' });
      const versions = events
        .filter((e) => e.type === VersionChanged.type)
        .map((e) => ({ ...(e.data as Static<typeof VersionChanged.schema>), occurredAt: e.occurredAt, eventId: e.id, ...(e.metadata.host ? { host: e.metadata.host } : {}) }));
      return { chainId: params.chainId, versions };
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/miners/:minerId/proving',
    operationId: 'getMinerProving',
    tag: 'chains',
    role: 'read',
    summary: "A Filecoin miner's proving state read from its chain's node now: current deadline, every deadline's partitions, faults, recoveries (`proving info|deadlines|faults`)",
    params: ChainProvingMiner.request,
    response: ChainProvingMiner.result,
    handle: ({ params }, { bus }) => bus.ask(ChainProvingMiner, params),
  }),
  route({
    method: 'GET',
    path: '/api/v1/miners/:minerId/deadlines/:deadline/sectors',
    operationId: 'getMinerDeadlineSectors',
    tag: 'chains',
    role: 'read',
    summary: "One deadline's live and faulty sectors per partition and the miner's sector size (what `proving check N` checks on the agents)",
    params: Type.Object({ minerId: ChainProvingSectors.request.properties.minerId, deadline: ChainProvingSectors.request.properties.deadline }, { additionalProperties: false }),
    response: ChainProvingSectors.result,
    handle: ({ params }, { bus }) => bus.ask(ChainProvingSectors, params),
  }),
  route({
    method: 'GET',
    path: '/api/v1/stats/calls',
    operationId: 'getCallSeries',
    tag: 'stats',
    role: 'read',
    summary: 'Calls over time per caller, component or method, with totals, errors and latency (`stats calls`); default: the last 24 h, 1 h steps',
    query: Type.Object(
      { ...filter, ...optionalRange, stepSeconds: Type.Optional(StatsCalls.request.properties.stepSeconds), by: StatsCalls.request.properties.by, limit: StatsCalls.request.properties.limit },
      { additionalProperties: false },
    ),
    response: StatsCalls.result,
    handle: ({ query }, { bus }) => {
      const { from: _f, to: _t, ...rest } = query;
      return bus.ask(StatsCalls, defined({ ...rest, ...rangeOf(query, Date.now()), stepSeconds: query.stepSeconds ?? 3600 }));
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/stats/top',
    operationId: 'getCallTop',
    tag: 'stats',
    role: 'read',
    summary: 'The busiest callers, components or methods in a range (`stats top`); default: the last 24 h',
    query: Type.Object({ ...filter, ...optionalRange, by: StatsTop.request.properties.by, limit: StatsTop.request.properties.limit }, { additionalProperties: false }),
    response: StatsTop.result,
    handle: ({ query }, { bus }) => {
      const { from: _f, to: _t, ...rest } = query;
      return bus.ask(StatsTop, defined({ ...rest, ...rangeOf(query, Date.now()) }));
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/stats/anomalies',
    operationId: 'listCallAnomalies',
    tag: 'stats',
    role: 'read',
    summary: 'Call rates outside their steady band (CallRateAnomaly, with recovery), newest first (`stats anomalies`)',
    query: StatsAnomalies.request,
    response: StatsAnomalies.result,
    handle: ({ query }, { bus }) => bus.ask(StatsAnomalies, query),
  }),
  route({
    method: 'GET',
    path: '/api/v1/stats/bands',
    operationId: 'listCallBands',
    tag: 'stats',
    role: 'read',
    summary: "Each caller's steady band of message-sending calls per component, with the smoothed per-minute rates it is judged on (what the dashboard draws)",
    query: StatsBands.request,
    response: StatsBands.result,
    handle: ({ query }, { bus }) => bus.ask(StatsBands, query),
  }),
];
