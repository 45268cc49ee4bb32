// What the log says about one chain (stream chain-<chainId>): the state folded from its events
// (evolve), read through the event store's readStream. The watcher keeps no state of its own: after a
// restart or a failover it folds the stream again, so an unchanged version is never announced twice.
import {
  ChainAnomaly,
  newEventFor,
  sameProtocolVersion,
  streamName,
  truncateRaw,
  UpgradePlanned,
  VersionChanged,
  type ChainAnomalyKind,
  type EventData,
  type EventEnvelope,
  type EventMetadata,
  type ProtocolVersion,
  type RecordedEvent,
} from '@fleetvisor/contracts';
import type { CommandHandlerStore } from '@fleetvisor/event-store';
import { planKey } from './upgrade-plan';

export interface ChainLogState {
  /** Last announced version (null before the first). */
  version: ProtocolVersion | null;
  versionHeight: number | undefined;
  /** Highest block height a VersionChanged or ChainAnomaly was recorded at (0 before the first):
   * the history up to it is on the record, so a watcher resumes from there. */
  lastHeight: number;
  /** planKey of every plan already announced. */
  plans: Set<string>;
}

/** The stream of a chain's history. */
export const chainLogStream = (chainId: string): string => streamName('chain', chainId);

export const emptyChainLog = (): ChainLogState => ({ version: null, versionHeight: undefined, lastHeight: 0, plans: new Set() });

/** The state after one more event of the stream; the state it is given is left as it was. */
export function evolveChainLog(state: ChainLogState, event: Pick<EventEnvelope, 'type' | 'data'>): ChainLogState {
  if (event.type === VersionChanged.type) {
    const d = event.data as EventData<typeof VersionChanged>;
    return { ...state, version: d.current, versionHeight: d.height, lastHeight: Math.max(state.lastHeight, d.height) };
  }
  if (event.type === ChainAnomaly.type) {
    const height = (event.data as EventData<typeof ChainAnomaly>).height;
    return height ? { ...state, lastHeight: Math.max(state.lastHeight, height) } : state;
  }
  if (event.type === UpgradePlanned.type) {
    return { ...state, plans: new Set(state.plans).add(planKey(event.data as EventData<typeof UpgradePlanned>)) };
  }
  return state;
}

export function foldChainLog(events: readonly Pick<RecordedEvent, 'type' | 'data'>[]): ChainLogState {
  return events.reduce(evolveChainLog, emptyChainLog());
}

/** The chain's stream folded, with its version (0: no stream): what appends are decided on. */
export async function readChainLog(store: Pick<CommandHandlerStore, 'readStream'>, chainId: string): Promise<{ state: ChainLogState; version: number }> {
  const { events, currentVersion } = await store.readStream(chainLogStream(chainId));
  return { state: foldChainLog(events), version: currentVersion };
}

/**
 * The newest VersionChanged of the chain as the log stores it (the envelope only: no stream
 * position), or undefined. What a host catching up asks for once the event stream no longer holds
 * it; returned unchanged so a signature over the envelope still verifies.
 */
export async function latestVersionChanged(store: Pick<CommandHandlerStore, 'readStream'>, chainId: string): Promise<EventEnvelope | undefined> {
  const { events } = await store.readStream(chainLogStream(chainId));
  const last = events.findLast((e) => e.type === VersionChanged.type);
  if (!last) return undefined;
  const { id, type, stream, version, data, metadata, occurredAt } = last;
  return { id, type, stream, version, data, metadata, occurredAt };
}

/** Where and by whom an answer of the chain was observed. */
export interface Observation {
  chainId: string;
  height: number;
  /** Redacted endpoint that answered. */
  endpoint: string;
  metadata: EventMetadata;
}

export function anomalyEvent(obs: Observation, kind: ChainAnomalyKind, reason: string, raw: unknown): { event: EventEnvelope; raw: string } {
  const rawText = truncateRaw(raw);
  const data: EventData<typeof ChainAnomaly> = {
    chainId: obs.chainId,
    ...(obs.height >= 1 ? { height: obs.height } : {}),
    endpoint: obs.endpoint,
    kind,
    raw: rawText,
    reason: reason.slice(0, 2000) || kind,
  };
  return { event: newEventFor(ChainAnomaly, data, obs.metadata), raw: rawText };
}

/** What a valid protocol version read at a height means for the log. */
export type VersionDecision = { kind: 'unchanged' } | { kind: 'changed'; event: EventEnvelope; current: ProtocolVersion };

/** A version equal to the last announced is nothing; a different one is a VersionChanged at the observed height. */
export function decideVersion(state: Pick<ChainLogState, 'version'>, obs: Observation, current: ProtocolVersion): VersionDecision {
  if (state.version && sameProtocolVersion(state.version, current)) return { kind: 'unchanged' };
  const event = newEventFor(VersionChanged, { chainId: obs.chainId, height: obs.height, previous: state.version, current }, obs.metadata);
  return { kind: 'changed', event, current };
}
