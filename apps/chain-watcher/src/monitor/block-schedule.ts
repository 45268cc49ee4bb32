// Which step the monitor takes next and which queries a block calls for. Params are queried at
// the block that carries Lava's `lava_param_change param=Version`, at the first block (start, or
// after blocks the node no longer serves) and every N blocks as a safety net; CurrentPlan at the
// first block and every N blocks. Never more than one Params query per block.
import type { BlockEvent } from '../connection/chain-rpc';

export interface NextBlock {
  height: number;
  /** Queries are due whatever the schedule says: first block after a start or after unseen blocks. */
  first: boolean;
}

/**
 * What the monitor does next on its way from `processed` (the last height it has accounted for) to
 * `target` (the latest height seen):
 * - `block`: process one block (its events, and the queries they call for);
 * - `pruned`: blocks the node no longer serves: nothing to read there, the next block is a `first`;
 * - `bisect`: blocks too many to scan one by one: changes in them are found by bisection on
 *   Params at a height, the last `maxGapScan` blocks before the target being scanned.
 */
export type NextStep =
  | ({ kind: 'block' } & NextBlock)
  | { kind: 'pruned'; from: number; to: number }
  | { kind: 'bisect'; from: number; to: number };

export interface StepContext {
  /** Most blocks scanned one by one in a gap; older ones are bisected. */
  maxGapScan: number;
  /** Lowest height the node serves (status earliest_block_height), when known. */
  earliest?: number;
  /** The block at `target` gets the queries of a first block (start, takeover). */
  firstAtTarget: boolean;
}

/** The next step after `processed` on the way to `target`, or undefined when there is none. */
export function nextStep(processed: number, target: number, ctx: StepContext): NextStep | undefined {
  if (processed >= target) return undefined;
  // Nothing on the record yet: the first version seen is the start of the history.
  if (processed === 0) return { kind: 'block', height: target, first: true };
  if (ctx.earliest !== undefined && processed + 1 < ctx.earliest) {
    return { kind: 'pruned', from: processed + 1, to: Math.min(ctx.earliest, target) - 1 };
  }
  if (target - processed > ctx.maxGapScan) return { kind: 'bisect', from: processed + 1, to: target - ctx.maxGapScan };
  const height = processed + 1;
  return { kind: 'block', height, first: ctx.firstAtTarget && height === target };
}

/**
 * One step of a bisection for the first height in (lo, hi] whose Params differ from those at lo.
 * `midSame` is whether Params at the returned `probe` equal those at lo; done when hi = lo + 1.
 */
export interface Bisection {
  /** Params here are those at the start of the range. */
  lo: number;
  /** Params here differ from those at lo. */
  hi: number;
}

export function bisectProbe(b: Bisection): number | undefined {
  return b.hi - b.lo > 1 ? Math.floor((b.lo + b.hi) / 2) : undefined;
}

export function bisectNarrow(b: Bisection, probe: number, same: boolean): Bisection {
  return same ? { lo: probe, hi: b.hi } : { lo: b.lo, hi: probe };
}

/** `param` and `Version` as CometBFT 0.34 and earlier send event attributes: base64. */
const PARAM_B64 = Buffer.from('param').toString('base64');
const VERSION_B64 = Buffer.from('Version').toString('base64');

/** True when a block's results carry Lava's version param change. */
export function hasVersionParamChange(events: readonly BlockEvent[]): boolean {
  // Lava's param-change proposal handler emits it (in gov's EndBlock); the monitor reads every event
  // list of a block, the transactions' too.
  return events.some(
    (e) => e.type === 'lava_param_change' && e.attributes.some((a) => (a.key === 'param' && a.value === 'Version') || (a.key === PARAM_B64 && a.value === VERSION_B64)),
  );
}

export type ParamsTrigger = 'lava_param_change' | 'start or gap' | 'safety net';

export interface QueriesDue {
  /** Why Params are queried at this block (undefined: not queried). */
  params?: ParamsTrigger;
  plan: boolean;
}

export interface QueryHistory {
  /** Height of the last Params / CurrentPlan query (0 before the first). */
  lastParamsHeight: number;
  lastPlanHeight: number;
  safetyNetBlocks: number;
}

export function queriesDue(block: NextBlock, events: readonly BlockEvent[], history: QueryHistory): QueriesDue {
  const { height, first } = block;
  const params: ParamsTrigger | undefined = hasVersionParamChange(events)
    ? 'lava_param_change'
    : first
      ? 'start or gap'
      : height - history.lastParamsHeight >= history.safetyNetBlocks
        ? 'safety net'
        : undefined;
  const plan = first || height - history.lastPlanHeight >= history.safetyNetBlocks;
  return params ? { params, plan } : { plan };
}
