// Which block the monitor processes next and which queries a block calls for. Params are queried at
// the block that carries Lava's `lava_param_change param=Version`, at the first block (start, or
// after a gap too large to scan) and every N blocks as a safety net; CurrentPlan at the first block
// and every N blocks. Never more than one Params query per block.
import type { BlockEvent } from '../connection/chain-rpc';

export interface NextBlock {
  height: number;
  /** Queries are due whatever the schedule says: nothing before this block was seen. */
  first: boolean;
  /** Blocks not scanned (the gap exceeded the scan bound). */
  skipped?: { from: number; to: number };
}

/** The block after `processed` on the way to `target`, or undefined when there is none. */
export function nextBlock(processed: number, target: number, maxGapScan: number): NextBlock | undefined {
  if (processed >= target) return undefined;
  if (processed === 0) return { height: target, first: true };
  if (target - processed > maxGapScan) {
    const height = target - maxGapScan + 1;
    return { height, first: true, skipped: { from: processed + 1, to: height - 1 } };
  }
  return { height: processed + 1, first: false };
}

/** True when a block's results carry Lava's version param change. */
export function hasVersionParamChange(events: readonly BlockEvent[]): boolean {
  return events.some((e) => e.type === 'lava_param_change' && e.attributes.some((a) => a.key === 'param' && a.value === 'Version'));
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
