import { fleetEvents } from '@fleetvisor/contracts';
import { payloadStats, streamTemplates, buildBatch } from './lib/workload';
import { fastUuidv7 } from './lib/fast-ids';
process.stdout.write(JSON.stringify(payloadStats()) + '\n');
const tpl = streamTemplates('bench-abc-b1w8-w0-s0');
const b = buildBatch(tpl, 0, 100);
process.stdout.write(JSON.stringify(b.every((e) => fleetEvents.parse(e).ok)) + ' ' + new Set(b.map((e) => e.id)).size + ' ' + fastUuidv7() + '\n');
let t = performance.now(); for (let i = 0; i < 2000; i++) buildBatch(tpl, i, 100); process.stdout.write(`build ${((performance.now()-t)*1000/200000).toFixed(2)} us/event\n`);
t = performance.now(); for (let i = 0; i < 200000; i++) fastUuidv7(); process.stdout.write(`fastuuid ${((performance.now()-t)*1000/200000).toFixed(2)} us\n`);
