// Where `fleetvisor up`'s local chain starts. A fresh devnet starts at height 1 with its genesis
// version, but the event log remembers the chain it watched before (same chain id): its versions at
// their heights, and how far the watcher scanned. A chain that started over below those heights would
// look to the watcher like history it already has, and the version it announces would contradict the
// record. So a later start continues the chain: above every height the log or the last run knew, with
// the version last recorded. Plain logic: the command gathers the inputs.
import type { EventEnvelope, RecordedEvent } from '@fleetvisor/contracts';

export interface ChainVersion {
  providerTarget: string;
  providerMin: string;
  consumerTarget: string;
  consumerMin: string;
}

export interface ChainResumeInputs {
  /** The chain's stream in the log (chain-<chainId>), oldest first. */
  events: readonly (EventEnvelope | RecordedEvent)[];
  /** The watcher's scan checkpoint (`<height>:<stream version>`), if any. */
  scanCheckpoint?: string | undefined;
  /** What the last run of up saved when it stopped. */
  saved?: { height: number; version?: ChainVersion } | undefined;
}

export interface ChainResume {
  initialHeight: number;
  version?: ChainVersion;
}

function heightOf(e: { data: unknown }): number {
  const h = typeof e.data === 'object' && e.data !== null ? (e.data as { height?: unknown }).height : undefined;
  return typeof h === 'number' && Number.isInteger(h) && h > 0 ? h : 0;
}

/** Undefined when nothing is known: the chain starts at genesis. */
export function chainResumePoint(inputs: ChainResumeInputs): ChainResume | undefined {
  let top = 0;
  let version: ChainVersion | undefined;
  for (const e of inputs.events) {
    top = Math.max(top, heightOf(e));
    if (e.type === 'VersionChanged') version = (e.data as { current: ChainVersion }).current;
  }
  const scanned = Number((inputs.scanCheckpoint ?? '').split(':')[0]);
  if (Number.isInteger(scanned) && scanned > 0) top = Math.max(top, scanned);
  if (inputs.saved && Number.isInteger(inputs.saved.height) && inputs.saved.height > 0) {
    top = Math.max(top, inputs.saved.height);
    // The log is the record; what the last run saved only fills in when the log has no version.
    version ??= inputs.saved.version;
  }
  if (top === 0 && version === undefined) return undefined;
  return { initialHeight: top + 1, ...(version ? { version } : {}) };
}
