// Transitions the agent has seen and the registry has not yet acknowledged. Each gets a seq,
// strictly increasing for this boot (bootId); a report carries the oldest ones, and the registry's
// `acceptedSeq` drops everything up to it. While NATS or the registry is unreachable they stay
// here, bounded: past `maxPending` the oldest are dropped (and counted), never the process.
import { randomUUID } from 'node:crypto';
import type { ThreadTransition } from '@fleetvisor/contracts';

export type NewTransition = Omit<ThreadTransition, 'seq'>;

export class TransitionOutbox {
  readonly bootId: string;
  private readonly maxPending: number;
  private items: ThreadTransition[] = [];
  private head = 0;
  private seq = 0;
  private droppedCount = 0;

  constructor(opts: { bootId?: string; maxPending?: number } = {}) {
    this.bootId = opts.bootId ?? randomUUID();
    this.maxPending = opts.maxPending ?? 50_000;
    if (!(this.maxPending >= 1)) throw new Error(`TransitionOutbox: maxPending must be >= 1, got ${this.maxPending}`);
  }

  /** Records a transition; returns it with its seq. */
  add(t: NewTransition): ThreadTransition {
    const tr = { seq: ++this.seq, ...t } as ThreadTransition;
    this.items.push(tr);
    if (this.size > this.maxPending) {
      this.head++;
      this.droppedCount++;
    }
    this.compact();
    return tr;
  }

  /** The oldest `max` pending transitions, in seq order. */
  pending(max = Number.POSITIVE_INFINITY): ThreadTransition[] {
    return this.items.slice(this.head, this.head + Math.min(max, this.size));
  }

  /** Drops every transition with seq <= acceptedSeq; returns how many. */
  ack(acceptedSeq: number): number {
    let n = 0;
    while (this.head < this.items.length && this.items[this.head]!.seq <= acceptedSeq) {
      this.head++;
      n++;
    }
    this.compact();
    return n;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Highest seq handed out so far (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Transitions dropped because more than maxPending were waiting. */
  get dropped(): number {
    return this.droppedCount;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
