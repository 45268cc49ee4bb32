// A catch-up reader alone:
//   node bin/run-ts.js bench/read-all-catch-up.ts [streams] [eventsPerStream] [rounds] [writers] [appendBatch]
//
// Appends `streams` worker streams of `eventsPerStream` ThreadStateChanged events into a database of
// its own, by `writers` concurrent writers (default 1) in appends of `appendBatch` events (default
// 1,000), then reads the whole log with PostgresEventStore.readAll in batches of 1,000, `rounds`
// times, and reports events/s with the client's CPU (this process) and the server's (the pool's
// backends, from /proc) per event. The event-store bench's readAll phase reads a freshly written
// log of many small concurrent transactions (`200 1000 3 8 10` comes close to it); the defaults
// isolate the read path. Last stdout line: one JSON object.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { newEventFor, ThreadStateChanged } from '@fleetvisor/contracts';
import { openEventStore, START_CHECKPOINT } from '@fleetvisor/event-store';
import { createTestDatabase } from '@fleetvisor/testing';
import { emitResult, progress } from './lib/log';

function backendCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function main(): Promise<void> {
  const [streams = 200, perStream = 1_000, rounds = 3, writers = 1, appendBatch = 1_000] = process.argv.slice(2).map(Number);
  const db = await createTestDatabase('bench_readall');
  try {
    const conn = await openEventStore(db.url, { migrate: true, poolSize: Math.max(4, writers + 2) });
    try {
      progress(`appending ${streams} x ${perStream} events, ${writers} writer(s), ${appendBatch} per append`);
      let nextStream = 0;
      const writer = async (): Promise<void> => {
        for (let w = nextStream++; w < streams; w = nextStream++) {
          const worker = `w${w}`;
          for (let from = 0; from < perStream; from += appendBatch) {
            const events = Array.from({ length: Math.min(appendBatch, perStream - from) }, (_, k) => {
              const i = from + k;
              return newEventFor(
                ThreadStateChanged,
                { worker, index: i % 16, plan: 'sealer', prev: 'Empty', next: 'Allocated', location: `/data/store${i % 16}`, sectorId: `s-t01000-${i}`, event: 'bench' },
                { correlationId: '0190a4c2-7d3e-7c4b-9a1f-3e2d1c0b9a88', causationId: `transition:${worker}:${i}`, host: `${worker}.fra1.fleet.example.net`, actor: 'worker-agent' },
              );
            });
            await conn.store.appendToStream(`worker-${worker}`, events, { expectedVersion: from });
          }
        }
      };
      await Promise.all(Array.from({ length: writers }, () => writer()));
      const pids = (await conn.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()')).rows.map((r) => r.pid);
      const serverMs = () => pids.reduce((sum, pid) => sum + backendCpuMs(pid), 0);
      const runs = [];
      for (let r = 0; r < rounds; r++) {
        const s0 = serverMs();
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        let events = 0;
        for (let after = START_CHECKPOINT; ; ) {
          const batch = await conn.store.readAll(after, 1_000);
          events += batch.events.length;
          after = batch.checkpoint;
          if (batch.events.length < 1_000) break;
        }
        const seconds = (performance.now() - t0) / 1_000;
        const c = process.cpuUsage(c0);
        const run = {
          events,
          eventsPerSec: Math.round(events / seconds),
          clientUsPerEvent: Math.round(((c.user + c.system) / events) * 100) / 100,
          serverUsPerEvent: Math.round((((serverMs() - s0) * 1_000) / events) * 100) / 100,
        };
        progress(`round ${r + 1}: ${JSON.stringify(run)}`);
        runs.push(run);
      }
      emitResult({ bench: 'read-all-catch-up', streams, eventsPerStream: perStream, writers, appendBatch, runs, bestEventsPerSec: Math.max(...runs.map((x) => x.eventsPerSec)) });
    } finally {
      await conn.close();
    }
  } finally {
    await db.drop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
