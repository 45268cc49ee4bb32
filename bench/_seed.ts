import { openEventStore } from '@fleetvisor/event-store';
import { streamTemplates, buildBatch, workerStream } from './lib/workload';
import { writeFileSync } from 'node:fs';
async function main(): Promise<void> {
  const url = process.argv[2]!;
  const n = Number(process.argv[3]);
  const conn = await openEventStore(url, { migrate: true, poolSize: 10 });
  const w = async (k: number): Promise<void> => {
    for (let s = 0; s * 4 + k < n / 1000; s++) {
      const worker = `seed-${k}-${s}`; const tpl = streamTemplates(worker);
      for (let v = 0; v < 1000; v += 100) await conn.store.appendToStream(workerStream(worker), buildBatch(tpl, v, 100), { expectedVersion: v });
    }
  };
  const t = performance.now();
  await Promise.all([0, 1, 2, 3].map(w));
  process.stderr.write(`seeded ${n} in ${performance.now() - t} ms\n`);
  const tpl = streamTemplates('probe-1');
  writeFileSync('/tmp/probe.json', JSON.stringify(buildBatch(tpl, 0, 100)));
  await conn.close();
}
void main();
