// go-bitfield's JSON form, as Lotus and venus put a bitfield.BitField in their JSON-RPC answers: an
// array of run lengths that always starts with a run of absent bits, e.g. {0, 1, 2, 8, 9} is
// [0, 3, 5, 2]; the empty set is [0]. Only the first run may be 0 (go-bitfield rejects a 0 later).

/** The JSON run lengths of a set of bit indexes (sector or partition numbers). */
export function bitfieldToJson(bits: Iterable<number>): number[] {
  const sorted = [...new Set(bits)].sort((a, b) => a - b);
  if (sorted.length === 0) return [0];
  const runs: number[] = [];
  let at = 0;
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) {
      i++;
      end++;
    }
    runs.push(start - at, end - start + 1);
    at = end + 1;
    i++;
  }
  return runs;
}

/** The set bits of a JSON bitfield (for the simulator's own tests). */
export function bitfieldFromJson(runs: readonly number[]): number[] {
  const out: number[] = [];
  let at = 0;
  runs.forEach((len, i) => {
    if (i % 2 === 1) for (let k = 0; k < len; k++) out.push(at + k);
    at += len;
  });
  return out;
}
