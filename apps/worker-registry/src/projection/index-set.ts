// A small set of thread indexes: a bit mask for 0..30 (every real worker), a Set for anything else.
// The projection keeps one per worker between batches (which threads have a row), so it is compact.
const MASK_BITS = 31;

export class IndexSet {
  private bits = 0;
  private more: Set<number> | undefined;

  static of(indexes: Iterable<number>): IndexSet {
    const s = new IndexSet();
    for (const i of indexes) s.add(i);
    return s;
  }

  /** From a bit mask of 0..30 and the other indexes (the projection's load query returns both). */
  static fromMask(bits: number, others: readonly number[] | null | undefined): IndexSet {
    const s = new IndexSet();
    s.bits = bits | 0;
    if (others) for (const i of others) s.add(i);
    return s;
  }

  has(i: number): boolean {
    if (i >= 0 && i < MASK_BITS) return ((this.bits >>> i) & 1) === 1;
    return this.more !== undefined && this.more.has(i);
  }

  add(i: number): void {
    if (i >= 0 && i < MASK_BITS) this.bits |= 1 << i;
    else (this.more ??= new Set()).add(i);
  }

  delete(i: number): void {
    if (i >= 0 && i < MASK_BITS) this.bits &= ~(1 << i);
    else this.more?.delete(i);
  }

  get size(): number {
    let n = 0;
    for (let b = this.bits; b !== 0; b &= b - 1) n++;
    return n + (this.more?.size ?? 0);
  }

  forEach(fn: (i: number) => void): void {
    for (let b = this.bits, i = 0; b !== 0; b >>>= 1, i++) if (b & 1) fn(i);
    if (this.more) for (const i of this.more) fn(i);
  }

  toArray(): number[] {
    const out: number[] = [];
    this.forEach((i) => out.push(i));
    return out;
  }
}
