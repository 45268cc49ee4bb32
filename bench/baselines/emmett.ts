// Baseline: Emmett (@event-driven-io/emmett-postgresql) on the same Postgres, same workload.
// Runs as its own process (bench/lib/child.ts): Emmett's connection layer (dumbo) replaces the
// global pg type parsers for json/jsonb, which must not leak into the measurements of our store.
//
// Appends: getPostgreSQLEventStore(url).appendToStream(stream, events, { expectedStreamVersion })
// with the exact version, on a pg.Pool of the same size as ours. Catch-up reads: readMessagesBatch
// ({ after, batchSize }) in a loop, i.e. what its consumers' batch puller does, without the puller's
// sleep between batches (its best case).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Pool } from 'pg';
import { dumbo } from '@event-driven-io/dumbo';
import { getPostgreSQLEventStore, readMessagesBatch, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import type { EventEnvelope } from '@fleetvisor/contracts';
import { isEntryPoint, phaseMain } from '../lib/child';
import { progress } from '../lib/log';
import { nowMs, rate } from '../lib/timer';
import { APPEND_SHAPES, runAppendShape, shapeKey, type AppendCall, type AppendShape, type AppendShapeResult } from '../lib/workload';

export interface EmmettPhaseInput {
  databaseUrl: string;
  poolSize: number;
  durationMs: number;
  warmupMs: number;
  eventsPerStream: number;
  readBatchSize: number;
  /** Stop the catch-up read after this long and report the rate so far. */
  readCapMs: number;
  tag: string;
  shapes?: AppendShape[];
}

export interface CatchUpResult {
  events: number;
  logEvents: number;
  batches: number;
  batchSize: number;
  elapsedMs: number;
  eventsPerSec: number;
  /** True when the read was stopped at the time cap before reaching the end of the log. */
  capped: boolean;
}

export interface EmmettPhaseResult {
  version: string;
  poolSize: number;
  schemaMigrateMs: number;
  appends: AppendShapeResult[];
  readAll: CatchUpResult;
}

type EmmettEvent = { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> };

function emmettAppend(store: PostgresEventStore): AppendCall {
  return async (stream: string, events: EventEnvelope[], expectedVersion: number) => {
    // Emmett's event shape: type, data, metadata (it adds its own message id and positions).
    const batch: EmmettEvent[] = events.map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, metadata: { ...e.metadata } }));
    await store.appendToStream(stream, batch, { expectedStreamVersion: BigInt(expectedVersion) });
  };
}

export async function runEmmettBaseline(input: EmmettPhaseInput): Promise<EmmettPhaseResult> {
  const pool = new Pool({ connectionString: input.databaseUrl, max: input.poolSize, application_name: 'bench-emmett' });
  const store = getPostgreSQLEventStore(input.databaseUrl, { connectionOptions: { pool } });
  try {
    // Emmett migrates lazily on first use; do it before any clock runs.
    const m0 = nowMs();
    await store.schema.migrate();
    const schemaMigrateMs = Math.round(nowMs() - m0);
    const append = emmettAppend(store);

    await runAppendShape({ batchSize: 10, writers: 8 }, append, { durationMs: input.warmupMs, eventsPerStream: input.eventsPerStream, tag: `${input.tag}warm` });
    const appends: AppendShapeResult[] = [];
    for (const shape of input.shapes ?? APPEND_SHAPES) {
      const r = await runAppendShape(shape, append, { durationMs: input.durationMs, eventsPerStream: input.eventsPerStream, tag: input.tag });
      progress(`emmett append ${shapeKey(shape)}: ${r.eventsPerSec.toLocaleString('en-US')} events/s (p50 call ${r.callLatency.p50Ms} ms)`);
      appends.push(r);
    }

    const readAll = await emmettCatchUp(input.databaseUrl, pool, input.readBatchSize, input.readCapMs);
    progress(`emmett readMessagesBatch: ${readAll.eventsPerSec.toLocaleString('en-US')} events/s over ${readAll.events.toLocaleString('en-US')} of ${readAll.logEvents.toLocaleString('en-US')} events${readAll.capped ? ' (capped)' : ''}`);
    return { version: emmettVersion(), poolSize: input.poolSize, schemaMigrateMs, appends, readAll };
  } finally {
    await store.close().catch(() => undefined);
    await pool.end().catch(() => undefined);
  }
}

async function emmettCatchUp(databaseUrl: string, pool: Pool, batchSize: number, capMs: number): Promise<CatchUpResult> {
  const executor = dumbo({ connectionString: databaseUrl, pool }).execute;
  const logEvents = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM emt_messages')).rows[0]?.n ?? 0);
  let after = 0n;
  let events = 0;
  let batches = 0;
  let capped = false;
  const started = nowMs();
  for (;;) {
    const r = await readMessagesBatch(executor, { after, batchSize });
    events += r.messages.length;
    batches++;
    after = r.currentGlobalPosition;
    if (!r.areMessagesLeft) break;
    if (nowMs() - started > capMs) {
      capped = true;
      break;
    }
  }
  const elapsedMs = nowMs() - started;
  return { events, logEvents, batches, batchSize, elapsedMs: Math.round(elapsedMs), eventsPerSec: rate(events, elapsedMs), capped };
}

function emmettVersion(): string {
  // The package's exports map hides package.json; read it next to the resolved entry point.
  const file = path.join(path.dirname(require.resolve('@event-driven-io/emmett-postgresql')), '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

if (isEntryPoint(__filename)) phaseMain(runEmmettBaseline);
