// Phase process for our PostgresEventStore: append shapes, catch-up readAll and seeding the log for
// the rebuild, served to the orchestrator (bench/lib/child.ts). Same workload and pool size as the
// Emmett baseline (bench/baselines/emmett.ts).
import { openEventStore, START_CHECKPOINT, type EventStoreConnection } from '@fleetvisor/event-store';
import type { EventEnvelope } from '@fleetvisor/contracts';
import { isEntryPoint, serveOps } from '../lib/child';
import { perEvent, startCpuMeter } from '../lib/cpu';
import { progress } from '../lib/log';
import { nowMs, rate } from '../lib/timer';
import {
  buildBatch,
  runAppendShape,
  streamTemplates,
  workerStream,
  type AppendCall,
  type AppendShapeArgs,
  type AppendRound,
  type CatchUpResult,
  type ReadAllArgs,
  type StoreOpenArgs,
  type StoreOpenResult,
} from '../lib/workload';

export type SeedMethod = 'append' | 'sql';

export interface SeedArgs {
  /** Total events the log must hold afterwards. */
  targetEvents: number;
  method: SeedMethod;
  writers: number;
  batchSize: number;
  /** Events per seeded stream. */
  eventsPerStream: number;
}

export interface SeedResult {
  method: SeedMethod;
  description: string;
  seededEvents: number;
  totalEvents: number;
  elapsedMs: number;
  eventsPerSec: number;
}

let conn: EventStoreConnection | undefined;
const APPLICATION_NAME = 'bench-fleetvisor';

function opened(): EventStoreConnection {
  if (!conn) throw new Error('fleetvisor: open first');
  return conn;
}

function ourAppend(c: EventStoreConnection): AppendCall {
  return async (stream: string, events: EventEnvelope[], expectedVersion: number) => {
    await c.store.appendToStream(stream, events, { expectedVersion });
  };
}

export async function countEvents(c: EventStoreConnection): Promise<number> {
  return Number((await c.pool.query<{ n: string }>('SELECT count(*) AS n FROM fv_events')).rows[0]?.n ?? 0);
}

/** Reads the whole log from the start with readAll batches; checks nothing was skipped or doubled. */
export async function catchUp(c: EventStoreConnection, args: ReadAllArgs, applicationName: string): Promise<CatchUpResult> {
  const logEvents = await countEvents(c);
  const stopCpu = await startCpuMeter(c.pool, applicationName);
  let checkpoint = START_CHECKPOINT;
  let events = 0;
  let batches = 0;
  let capped = false;
  const started = nowMs();
  for (;;) {
    const r = await c.store.readAll(checkpoint, args.batchSize);
    events += r.events.length;
    batches++;
    checkpoint = r.checkpoint;
    if (r.events.length < args.batchSize) break;
    if (args.capMs > 0 && nowMs() - started > args.capMs) {
      capped = true;
      break;
    }
  }
  const elapsedMs = nowMs() - started;
  const cpu = perEvent(await stopCpu(), events);
  if (!capped && events !== logEvents) throw new Error(`readAll returned ${events} events, the log holds ${logEvents}`);
  // Global order is gap-free and duplicate-free by construction; the count check above proves it here.
  return { events, distinctEvents: events, skipped: 0, logEvents, batches, batchSize: args.batchSize, elapsedMs: Math.round(elapsedMs), eventsPerSec: rate(events, elapsedMs), capped, cpu };
}

async function seedByAppend(c: EventStoreConnection, args: SeedArgs, missing: number): Promise<void> {
  let next = 0;
  const streams = Math.ceil(missing / args.eventsPerStream);
  let remaining = missing;
  const writer = async (): Promise<void> => {
    for (let s = next++; s < streams; s = next++) {
      const worker = `seed-${s}`;
      const templates = streamTemplates(worker);
      const size = Math.min(args.eventsPerStream, remaining);
      remaining -= size;
      for (let v = 0; v < size; v += args.batchSize) {
        await c.store.appendToStream(workerStream(worker), buildBatch(templates, v, Math.min(args.batchSize, size - v)), { expectedVersion: v });
      }
    }
  };
  await Promise.all(Array.from({ length: args.writers }, () => writer()));
}

/**
 * Bulk seeding straight into fv_events/fv_streams with INSERT ... SELECT generate_series, one
 * statement (transaction) per stream chunk. Rows are the same events the append path writes
 * (catalog-valid: readAll validates every row), with ids from gen_random_uuid().
 */
async function seedBySql(c: EventStoreConnection, args: SeedArgs, missing: number): Promise<void> {
  const cycle = streamTemplates('SEEDWORKER');
  const templates = JSON.stringify(cycle.map((e) => ({ type: e.type, version: e.version, data: e.data, metadata: e.metadata })));
  const per = args.eventsPerStream;
  const streams = Math.ceil(missing / per);
  const chunk = Math.max(1, Math.floor(50_000 / per));
  const lastSize = missing - (streams - 1) * per;
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < streams) {
      const first = next;
      next += chunk;
      const last = Math.min(streams, next) - 1;
      await c.pool.query(
        `WITH t AS (SELECT (ordinality - 1)::int AS k, e FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, ordinality)),
              s AS (SELECT g AS sn, 'seedsql-' || g AS worker FROM generate_series($2::int, $3::int) g),
              ins_streams AS (
                INSERT INTO fv_streams (stream_id, version)
                SELECT 'worker-' || worker, CASE WHEN sn = $5::int - 1 THEN $6::int ELSE $4::int END FROM s)
         INSERT INTO fv_events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at)
         SELECT gen_random_uuid(), 'worker-' || s.worker, v, t.e->>'type', (t.e->>'version')::int,
                jsonb_set(t.e->'data', '{worker}', to_jsonb(s.worker))::json,
                jsonb_set(t.e->'metadata', '{host}', to_jsonb(s.worker || '.fra1.fleet.example.net'))::json,
                now()
           FROM s
           CROSS JOIN LATERAL generate_series(1, CASE WHEN s.sn = $5::int - 1 THEN $6::int ELSE $4::int END) v
           JOIN t ON t.k = (v - 1) % ${cycle.length}
          ORDER BY s.sn, v`,
        [templates, first, last, per, streams, lastSize],
      );
    }
  };
  await Promise.all(Array.from({ length: args.writers }, () => writer()));
}

export const fleetvisorOps = {
  async open(args: StoreOpenArgs): Promise<StoreOpenResult> {
    const t0 = nowMs();
    conn = await openEventStore(args.databaseUrl, { migrate: true, poolSize: args.poolSize, applicationName: APPLICATION_NAME });
    return { migrateMs: Math.round(nowMs() - t0), version: 'libs/event-store PostgresEventStore (working tree)' };
  },

  async appendShape(args: AppendShapeArgs): Promise<AppendRound> {
    const c = opened();
    const stopCpu = await startCpuMeter(c.pool, APPLICATION_NAME);
    const r = await runAppendShape(args.shape, ourAppend(c), args);
    return { ...r, cpu: await stopCpu() };
  },

  async readAll(args: ReadAllArgs): Promise<CatchUpResult> {
    return catchUp(opened(), args, APPLICATION_NAME);
  },

  async seed(args: SeedArgs): Promise<SeedResult> {
    const c = opened();
    const before = await countEvents(c);
    const missing = Math.max(0, args.targetEvents - before);
    const t0 = nowMs();
    const timer = setInterval(() => {
      countEvents(c).then(
        (n) => progress(`seeding (${args.method}): ${n.toLocaleString('en-US')} / ${args.targetEvents.toLocaleString('en-US')} events`),
        () => undefined,
      );
    }, 5_000);
    try {
      if (args.method === 'append') await seedByAppend(c, args, missing);
      else await seedBySql(c, args, missing);
    } finally {
      clearInterval(timer);
    }
    const elapsedMs = nowMs() - t0;
    const totalEvents = await countEvents(c);
    const description =
      args.method === 'append'
        ? `PostgresEventStore.appendToStream, batches of ${args.batchSize}, ${args.writers} writers, ${args.eventsPerStream} events per stream`
        : `INSERT ... SELECT generate_series into fv_events/fv_streams, ${args.writers} sessions, ${args.eventsPerStream} events per stream`;
    return { method: args.method, description, seededEvents: totalEvents - before, totalEvents, elapsedMs: Math.round(elapsedMs), eventsPerSec: rate(totalEvents - before, elapsedMs) };
  },
};

if (isEntryPoint(__filename)) serveOps(fleetvisorOps, async () => conn?.close());
