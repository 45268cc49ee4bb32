import { createTestDatabase } from '@fleetvisor/testing';
import { openEventStore, START_CHECKPOINT, StreamStatsProjection, readStreamStats } from '@fleetvisor/event-store';
import { runAppendShape, type AppendShape } from '../../bench/lib/workload';

const out = (s: string) => process.stdout.write(s + '\n');

async function main() {
  const db = await createTestDatabase('fvperf');
  const conn = await openEventStore(db.url, { migrate: true, poolSize: 10 });
  try {
    const shapes: AppendShape[] = (process.argv[2] ?? 'b100w1,b100w8,b1w1,b1w8,b10w8').split(',').map((k) => {
      const m = /^b(\d+)w(\d+)$/.exec(k)!;
      return { batchSize: Number(m[1]), writers: Number(m[2]) };
    });
    const durationMs = Number(process.argv[3] ?? 5000);
    for (const shape of shapes) {
      const r = await runAppendShape(shape, async (stream, events, expectedVersion) => {
        await conn.store.appendToStream(stream, events, { expectedVersion });
      }, { durationMs, eventsPerStream: 1000, tag: 'p' });
      out(`append b${shape.batchSize}w${shape.writers}: ${r.eventsPerSec} ev/s, ${r.appendCalls} calls, p50 ${r.callLatency.p50} ms p99 ${r.callLatency.p99} ms`);
    }
    // top up to N events with b100w8
    const target = Number(process.argv[4] ?? 0);
    let n = Number((await conn.pool.query('SELECT count(*) AS n FROM fv_events')).rows[0].n);
    if (target > n) {
      const t0 = performance.now();
      await runAppendShape({ batchSize: 100, writers: 8 }, async (stream, events, expectedVersion) => {
        await conn.store.appendToStream(stream, events, { expectedVersion });
      }, { durationMs: ((target - n) / 60000) * 1000, eventsPerStream: 1000, tag: 'seed' });
      n = Number((await conn.pool.query('SELECT count(*) AS n FROM fv_events')).rows[0].n);
      out(`seeded to ${n} in ${Math.round(performance.now() - t0)} ms`);
    }
    for (const batch of [5000, 10000]) {
      let cp = START_CHECKPOINT;
      let count = 0;
      const t0 = performance.now();
      for (;;) {
        const r = await conn.store.readAll(cp, batch);
        count += r.events.length;
        if (r.checkpoint === cp) break;
        cp = r.checkpoint;
      }
      const ms = performance.now() - t0;
      out(`readAll batch ${batch}: ${count} events in ${Math.round(ms)} ms = ${Math.round(count / (ms / 1000))} ev/s`);
    }
    const t0 = performance.now();
    const r = await conn.rebuild(new StreamStatsProjection(), undefined, process.argv[5] ? { batchSize: Number(process.argv[5]) } : {});
    out(`rebuild: ${r.processed} events in ${Math.round(performance.now() - t0)} ms (${r.eventsPerSec} ev/s)`);
    const stats = await readStreamStats(conn.pool);
    out(`stats total ${Object.values(stats.eventCounts).reduce((a, b) => a + b, 0)}`);
  } finally {
    await conn.close();
    await db.drop();
  }
}
main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
