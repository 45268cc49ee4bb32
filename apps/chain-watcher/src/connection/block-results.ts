// The events of a block as CometBFT's `block_results` gives them, whatever the version: 0.38 puts
// the block's own events in `finalize_block_events`, 0.37 and earlier in `begin_block_events` and
// `end_block_events`; every version lists each transaction's events under `txs_results[].events`.
// A param change can come from any of them (a proposal's EndBlock, a message in a tx), so all are read.
import type { BlockEvent } from './chain-rpc';

const LISTS = ['begin_block_events', 'finalize_block_events', 'end_block_events'] as const;

function eventsOf(raw: unknown): BlockEvent[] {
  if (!Array.isArray(raw)) return [];
  const out: BlockEvent[] = [];
  for (const e of raw) {
    if (!e || typeof e !== 'object') continue;
    const { type, attributes } = e as { type?: unknown; attributes?: unknown };
    if (typeof type !== 'string') continue;
    const attrs = Array.isArray(attributes)
      ? attributes.flatMap((a) => {
          const { key, value } = (a ?? {}) as { key?: unknown; value?: unknown };
          return typeof key === 'string' ? [{ key, value: typeof value === 'string' ? value : '' }] : [];
        })
      : [];
    out.push({ type, attributes: attrs });
  }
  return out;
}

/** Every event of a `block_results` result, block events first, then the transactions' in order. */
export function blockResultEvents(result: unknown): BlockEvent[] {
  if (!result || typeof result !== 'object') return [];
  const r = result as Record<string, unknown>;
  const events = LISTS.flatMap((list) => eventsOf(r[list]));
  const txs = Array.isArray(r['txs_results']) ? r['txs_results'] : [];
  for (const tx of txs) events.push(...eventsOf((tx as { events?: unknown } | null)?.events));
  return events;
}
