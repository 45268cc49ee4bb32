// Baseline: Emmett (@event-driven-io/emmett-postgresql) on the same Postgres, same workload.
// Runs as its own process (bench/lib/child.ts): Emmett's connection layer (dumbo) replaces the
// global pg type parsers for json/jsonb, which must not leak into the measurements of our store.
//
// Appends: getPostgreSQLEventStore(url).appendToStream(stream, events, { expectedStreamVersion })
// with the exact version, on a pg.Pool of the same size as ours. Catch-up reads: readMessagesBatch
// ({ after, batchSize }) in a loop, which is what its consumers' batch puller runs, without the
// puller's sleep between batches (its best case).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Pool } from 'pg';
import { dumbo } from '@event-driven-io/dumbo';
import { getPostgreSQLEventStore, readMessagesBatch, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import type { EventEnvelope } from '@fleetvisor/contracts';
import { isEntryPoint, serveOps } from '../lib/child';
import { perEvent, startCpuMeter } from '../lib/cpu';
import { nowMs, rate } from '../lib/timer';
import {
  runAppendShape,
  type AppendCall,
  type AppendShapeArgs,
  type AppendRound,
  type CatchUpResult,
  type ReadAllArgs,
  type StoreOpenArgs,
  type StoreOpenResult,
} from '../lib/workload';

type EmmettEvent = { type: string; data: Record<string, unknown>; metadata: Record<string, unknown> };

let pool: Pool | undefined;
let store: PostgresEventStore | undefined;
let databaseUrl = '';
const APPLICATION_NAME = 'bench-emmett';

function opened(): { pool: Pool; store: PostgresEventStore } {
  if (!pool || !store) throw new Error('emmett: open first');
  return { pool, store };
}

function emmettAppend(s: PostgresEventStore): AppendCall {
  return async (stream: string, events: EventEnvelope[], expectedVersion: number) => {
    // Emmett's event shape: type, data, metadata (it adds its own message id and positions).
    const batch: EmmettEvent[] = events.map((e) => ({ type: e.type, data: e.data as Record<string, unknown>, metadata: { ...e.metadata } }));
    await s.appendToStream(stream, batch, { expectedStreamVersion: BigInt(expectedVersion) });
  };
}

function emmettVersion(): string {
  // The package's exports map hides package.json; read it next to the resolved entry point.
  const file = path.join(path.dirname(require.resolve('@event-driven-io/emmett-postgresql')), '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export const emmettOps = {
  async open(args: StoreOpenArgs): Promise<StoreOpenResult> {
    databaseUrl = args.databaseUrl;
    pool = new Pool({ connectionString: args.databaseUrl, max: args.poolSize, application_name: APPLICATION_NAME });
    store = getPostgreSQLEventStore(args.databaseUrl, { connectionOptions: { pool } });
    // Emmett migrates lazily on first use; do it now, before any clock runs.
    const t0 = nowMs();
    await store.schema.migrate();
    return { migrateMs: Math.round(nowMs() - t0), version: `@event-driven-io/emmett-postgresql ${emmettVersion()}` };
  },

  async appendShape(args: AppendShapeArgs): Promise<AppendRound> {
    const { pool: p, store: s } = opened();
    const stopCpu = await startCpuMeter(p, APPLICATION_NAME);
    const r = await runAppendShape(args.shape, emmettAppend(s), args);
    return { ...r, cpu: await stopCpu() };
  },

  async readAll(args: ReadAllArgs): Promise<CatchUpResult> {
    const { pool: p } = opened();
    const executor = dumbo({ connectionString: databaseUrl, pool: p }).execute;
    const logEvents = Number((await p.query<{ n: string }>('SELECT count(*) AS n FROM emt_messages')).rows[0]?.n ?? 0);
    const seen = new Set<string>();
    let maxPosition = 0n;
    let after = 0n;
    let events = 0;
    let batches = 0;
    let capped = false;
    const stopCpu = await startCpuMeter(p, APPLICATION_NAME);
    const started = nowMs();
    for (;;) {
      const r = await readMessagesBatch(executor, { after, batchSize: args.batchSize });
      events += r.messages.length;
      for (const m of r.messages) {
        seen.add(m.metadata.messageId);
        if (m.metadata.globalPosition > maxPosition) maxPosition = m.metadata.globalPosition;
      }
      batches++;
      after = r.currentGlobalPosition;
      if (!r.areMessagesLeft) break;
      if (args.capMs > 0 && nowMs() - started > args.capMs) {
        capped = true;
        break;
      }
    }
    const elapsedMs = nowMs() - started;
    const cpu = perEvent(await stopCpu(), events);
    // Events at or below the highest position read that the reads never returned.
    const covered = Number((await p.query<{ n: string }>('SELECT count(*) AS n FROM emt_messages WHERE global_position <= $1', [maxPosition.toString()])).rows[0]?.n ?? 0);
    const skipped = covered - seen.size;
    return { events, distinctEvents: seen.size, skipped, logEvents, batches, batchSize: args.batchSize, elapsedMs: Math.round(elapsedMs), eventsPerSec: rate(events, elapsedMs), capped, cpu };
  },
};

if (isEntryPoint(__filename)) {
  serveOps(emmettOps, async () => {
    await store?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
  });
}
