// The reader's occurredAt formatting alone: `node bin/run-ts.js bench/occurred-at-format.ts [values]`.
//
// Formats `values` (default 2,000,000) microsecond timestamps 1.237 ms apart, as a catch-up read of a
// busy log meets them, with occurredAtIso (libs/event-store) and with `new Date(ms).toISOString()`
// (the baseline), two alternating rounds each, checks both give the same text, and reports ns per
// value. Last stdout line: one JSON object.
import { performance } from 'node:perf_hooks';
import { occurredAtIso } from '../libs/event-store/src/event-rows';
import { emitResult, progress } from './lib/log';

const BASE_MICROS = 1_795_852_800_000_000;
const STEP_MICROS = 1_237;

const viaDate = (micros: number): string => new Date(Math.floor(micros / 1000)).toISOString();

function nsPerValue(format: (micros: number) => string, values: number): number {
  let length = 0;
  const t0 = performance.now();
  for (let i = 0; i < values; i++) length += format(BASE_MICROS + i * STEP_MICROS).length;
  const ns = ((performance.now() - t0) * 1e6) / values;
  if (length !== values * 24) throw new Error(`unexpected text length ${length}`);
  return Math.round(ns * 10) / 10;
}

function main(): void {
  const values = Number(process.argv[2] ?? 2_000_000);
  for (let i = 0; i < values; i += 997) {
    const micros = BASE_MICROS + i * STEP_MICROS;
    if (occurredAtIso(micros) !== viaDate(micros)) throw new Error(`different text for ${micros}`);
  }
  const rounds: { occurredAtIso: number; toISOString: number }[] = [];
  for (let r = 0; r < 2; r++) {
    const toISOString = nsPerValue(viaDate, values);
    const ours = nsPerValue(occurredAtIso, values);
    progress(`round ${r + 1}: occurredAtIso ${ours} ns, toISOString ${toISOString} ns per value`);
    rounds.push({ occurredAtIso: ours, toISOString });
  }
  emitResult({ bench: 'occurred-at-format', values, rounds });
}

main();
