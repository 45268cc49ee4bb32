import { createTestDatabase } from '@fleetvisor/testing';
import { fleetEvents } from '@fleetvisor/contracts';
import { openEventStore, START_CHECKPOINT } from '@fleetvisor/event-store';
import { runAppendShape } from '../../bench/lib/workload';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './src/event-rows';

const out = (s: string) => process.stdout.write(s + '\n');
async function main() {
  const db = await createTestDatabase('fvperf');
  const conn = await openEventStore(db.url, { migrate: true, poolSize: 10 });
  try {
    await runAppendShape({ batchSize: 100, writers: 8 }, async (s, e, v) => void (await conn.store.appendToStream(s, e, { expectedVersion: v })), { durationMs: 3000, eventsPerStream: 1000, tag: 'x' });
    const n = Number((await conn.pool.query('SELECT count(*) AS n FROM fv_events')).rows[0].n);
    out(`events ${n}`);
    const ex = await conn.pool.query(`EXPLAIN (ANALYZE, BUFFERS) SELECT ${EVENT_COLUMNS} FROM fv_events e WHERE (e.transaction_id, e.global_position) > ('0'::xid8, 0::bigint) AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY e.transaction_id, e.global_position LIMIT 10000`);
    out(ex.rows.map((r) => r['QUERY PLAN']).join('\n'));
    const variants: Record<string, string> = {
      full: EVENT_COLUMNS,
      noToChar: EVENT_COLUMNS.replace(/to_char\([^]*$/, 'e.occurred_at'),
      dataText: EVENT_COLUMNS.replace('e.data, e.metadata', 'e.data::text, e.metadata::text'),
      positionsOnly: 'e.transaction_id, e.global_position',
    };
    for (const [name, cols] of Object.entries(variants)) {
      const t0 = performance.now();
      let rows: EventRow[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await conn.pool.query({ text: `SELECT ${cols} FROM fv_events e WHERE (e.transaction_id, e.global_position) > ('0'::xid8, 0::bigint) AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY e.transaction_id, e.global_position LIMIT 10000`, rowMode: 'array' });
        rows = r.rows as EventRow[];
      }
      out(`query ${name}: ${((performance.now() - t0) / 5).toFixed(1)} ms per 10k`);
      if (name === 'full') {
        let t1 = performance.now();
        for (let i = 0; i < 5; i++) for (const row of rows) toRecordedEvent(fleetEvents, row);
        out(`  map+parse: ${((performance.now() - t1) / 5).toFixed(1)} ms per 10k`);
        t1 = performance.now();
        for (let i = 0; i < 5; i++) for (const row of rows) fleetEvents.parse({ id: row[2], type: row[5], stream: row[3], version: row[6], data: row[7], metadata: row[8], occurredAt: row[9] });
        out(`  catalog.parse only: ${((performance.now() - t1) / 5).toFixed(1)} ms per 10k`);
      }
    }
    const r = await conn.pool.query({ text: `SELECT e.data::text FROM fv_events e LIMIT 1`, rowMode: 'array' });
    out(`sample data: ${r.rows[0]}`);
  } finally {
    await conn.close();
    await db.drop();
  }
}
main().catch((e) => { process.stderr.write(String(e?.stack ?? e) + '\n'); process.exit(1); });
